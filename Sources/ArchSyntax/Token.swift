/// A lexeme with its byte range in the source. Line and column are computed only when printed.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case name          // conv, heads, layer1, stem.proj
        case int           // 64, -1
        case float         // 0.02, 1e-5
        case dims          // 3x224x224, 7x7
        case repeat_       // x12
        case lbrace, rbrace, lparen, rparen, lbracket, rbracket
        case comma, colon, semicolon, equal
        case plus, minus, star, slash, percent
        case eqeq, noteq, less, lesseq, greater, greatereq
        case newline
        case eof
        case invalid       // a byte that starts no token
    }
    public let kind: Kind
    public let range: Range<Int>
    public init(_ kind: Kind, _ range: Range<Int>) {
        self.kind = kind
        self.range = range
    }
}
