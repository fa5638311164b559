import Foundation

/// transformers' index of a sharded checkpoint (`model.safetensors.index.json`):
/// `{"metadata": {...}, "weight_map": {"tensor name": "model-00001-of-00002.safetensors", ...}}`,
/// parsed with the safetensors header's JSON tokens. Members other than `weight_map` are skipped; a
/// tensor named twice, a shard that is not a plain file name beside the index, or no weight_map is an error.
extension SafeTensorsHeader {
    /// Each tensor and the shard holding it, in the index's order.
    static func weightMap(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [(tensor: String, file: String)] {
        var p = SafeTensorsHeader(bytes: bytes, path: path, document: "the index")
        p.skipSpace()
        guard p.peek() == UInt8(ascii: "{") else { throw IOError(path, "the index is not a JSON object") }
        p.pos += 1
        var map: [(tensor: String, file: String)]?
        p.skipSpace()
        if p.peek() == UInt8(ascii: "}") { p.pos += 1 } else {
            while true {
                let key = try p.string()
                try p.colon()
                if key == "weight_map" {
                    guard map == nil else { throw IOError(path, "the index gives 'weight_map' twice") }
                    map = try p.shardsOfTensors()
                } else {
                    try p.skipValue(depth: 1)
                }
                if try p.endOfMembers() { break }
            }
        }
        guard p.atEnd() else { throw p.invalid("unexpected bytes after the index's object") }
        guard let map else { throw IOError(path, "the index has no 'weight_map' (each tensor's shard file)") }
        return map
    }

    /// `{"name": "shard.safetensors", ...}`
    mutating func shardsOfTensors() throws -> [(tensor: String, file: String)] {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else { throw IOError(path, "the index's weight_map is not a map of tensor names to files") }
        pos += 1
        var out: [(tensor: String, file: String)] = [], names = Set<String>()
        skipSpace()
        if peek() == UInt8(ascii: "}") { pos += 1; return out }
        while true {
            let name = try string()
            try colon()
            guard names.insert(name).inserted else { throw IOError(path, tensor: name, "the index names its shard twice") }
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw IOError(path, tensor: name, "its shard in the index is not a file name") }
            let file = try string()
            guard !file.isEmpty, !file.contains("/"), !file.contains("\\"), file != ".", file != "..", !file.contains("\0") else {
                throw IOError(path, tensor: name, "its shard '\(file)' is not a file name beside the index")
            }
            out.append((name, file))
            if try endOfMembers() { return out }
        }
    }
}
