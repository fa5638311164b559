import Foundation

/// The tensors of a checkpoint given as `--weights` once or more: a safetensors file; the shards of a
/// sharded checkpoint (each file given, or transformers' `model.safetensors.index.json`, whose shards
/// beside it are read); or a folder that `save_pretrained` wrote (its index, or its model.safetensors).
/// A tensor held by two files is an error, as is a tensor the index puts in a shard that lacks it.
public enum Checkpoint {
    /// The name messages give the checkpoint: its one path, or the paths joined.
    public static func describe(_ paths: [String]) -> String { paths.joined(separator: ", ") }

    /// Every tensor of every file, in the files' order. `budget`, if given, is told how many 4-byte
    /// values they will take (as `SafeTensors.read` counts them) before any is decoded, and may refuse.
    public static func read(_ paths: [String], budget: ((Int) throws -> Void)? = nil) throws -> [(name: String, tensor: Tensor)] {
        var files: [(path: String, index: String?)] = [], expected: [(tensor: String, file: String, index: String)] = []
        for path in paths {
            let source = try resolve(path)
            guard source.hasSuffix(".json") else { files.append((source, nil)); continue }
            let map = try weightMap(source)
            let folder = (source as NSString).deletingLastPathComponent
            var seen = Set<String>()
            for (tensor, file) in map {
                let shard = folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
                if seen.insert(shard).inserted { files.append((shard, source)) }
                expected.append((tensor, shard, source))
            }
        }
        // One file is told the budget as it is read; several are counted first (their headers only).
        if let budget, files.count > 1 { try budget(try valueCount(files.map(\.path))) }
        var out: [(name: String, tensor: Tensor)] = [], holder: [String: String] = [:]
        for f in files {
            for t in try SafeTensors.read(path: f.path, budget: files.count == 1 ? budget : nil) {
                if let other = holder[t.name] {
                    throw IOError(f.path, tensor: t.name, "\(other) holds it too; give each tensor in one file only")
                }
                holder[t.name] = f.path
                out.append(t)
            }
        }
        for e in expected where holder[e.tensor] != e.file {
            throw IOError(e.index, tensor: e.tensor, "the index puts it in \(e.file), which does not hold it")
        }
        return out
    }

    /// The 4-byte values the files' tensors take, from their headers.
    static func valueCount(_ paths: [String]) throws -> Int {
        struct Counted: Error {}
        var total = 0
        for path in paths {
            do {
                _ = try SafeTensors.read(path: path) { n in
                    total = total.addingReportingOverflow(n).overflow ? Int.max : total + n
                    throw Counted()  // the header is enough
                }
            } catch is Counted {}
        }
        return total
    }

    /// A folder stands for its index or its model.safetensors; anything else is itself.
    static func resolve(_ path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return path }
        for name in ["model.safetensors.index.json", "model.safetensors"] {
            let candidate = (path as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw IOError(path, "a folder without model.safetensors or model.safetensors.index.json (what save_pretrained writes)")
    }

    /// The weight_map of an index file, every name checked.
    static func weightMap(_ path: String) throws -> [(tensor: String, file: String)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw IOError(path, "cannot read the file (\(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"))")
        }
        guard data.count <= SafeTensors.maxHeaderBytes else {
            throw IOError(path, "the index has \(data.count) bytes, more than the \(SafeTensors.maxHeaderBytes)-byte limit")
        }
        return try data.withUnsafeBytes { try SafeTensorsHeader.weightMap($0, path: path) }
    }
}
