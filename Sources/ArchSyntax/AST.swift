/// The syntax tree: what the file says, before names, blocks and shapes are resolved.

public indirect enum ExprKind: Sendable {
    case int(Int)
    case float(Double)
    /// A bare word: a block parameter, a symbol, an option name or an enumerated value.
    case name(String)
    /// `3x224x224` or `7x7`: each part an integer or a symbol.
    case dims([String])
    /// `[seq, 768]`
    case list([Expr])
    case binary(BinaryOp, Expr, Expr)
    /// A placeholder where parsing failed (already diagnosed).
    case bad
}

public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
    case and = "and", or = "or"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

public struct Expr: Sendable {
    public let kind: ExprKind
    public let loc: SourceLoc
    /// Written in parentheses: `(out)` is a value even where `out` would be a keyword.
    public let grouped: Bool
    public init(_ kind: ExprKind, _ loc: SourceLoc, grouped: Bool = false) {
        self.kind = kind
        self.loc = loc
        self.grouped = grouped
    }
    /// The word itself when the expression is a bare, unparenthesized name.
    public var word: String? {
        if case .name(let n) = kind, !grouped { return n }
        return nil
    }
}

public struct Identifier: Sendable {
    public let text: String
    public let loc: SourceLoc
    public init(_ text: String, _ loc: SourceLoc) {
        self.text = text
        self.loc = loc
    }
}

/// A label computed as its line expands, from text and expressions joined: `denselayer{index + 1}`.
public struct LabelTemplate: Sendable {
    public enum Part: Sendable {
        case text(String)
        case expr(Expr)
    }
    public var parts: [Part]
    public var loc: SourceLoc
    public init(parts: [Part], loc: SourceLoc) {
        self.parts = parts
        self.loc = loc
    }
}

/// One layer line: `[label:] op args... [xN] [{ body } [clause { body }]]`.
public struct LayerStmt: Sendable {
    public var label: Identifier?
    /// A computed label (`denselayer{index + 1}:`); `label` is nil then.
    public var labelTemplate: LabelTemplate?
    public var op: Identifier
    public var args: [Expr]
    public var repeatCount: (count: Int, loc: SourceLoc)?
    /// Bodies in braces: the first has no keyword; later ones (`shortcut { }`) do.
    public var bodies: [Body]
    public var loc: SourceLoc

    public struct Body: Sendable {
        public var keyword: Identifier?
        public var stmts: [Stmt]
    }
}

public struct BlockDecl: Sendable {
    public struct Param: Sendable {
        public var name: Identifier
        public var defaultValue: Expr?
    }
    public var name: Identifier
    public var params: [Param]
    public var body: [Stmt]
    public var loc: SourceLoc
}

public struct IfStmt: Sendable {
    public var condition: Expr
    public var then: [Stmt]
    public var otherwise: [Stmt]?
    public var loc: SourceLoc
}

/// `branch NAME [from SOURCE] { body }`: the body runs on the running tensor (or SOURCE) and its
/// result is labelled NAME; the running tensor is left as it was.
public struct BranchStmt: Sendable {
    public var name: Identifier
    public var source: Expr?
    public var body: [Stmt]
    public var loc: SourceLoc
}

/// `order NAME, NAME, ...`: these tensors (or modules) first among their siblings in the state_dict.
public struct OrderStmt: Sendable {
    public var names: [Identifier]
    public var loc: SourceLoc
}

public struct InputDecl: Sendable {
    public var name: Identifier
    public var shape: Expr
    public var options: [Expr]
    public var loc: SourceLoc
}

public indirect enum Stmt: Sendable {
    case model(Identifier)
    case input(InputDecl)
    case block(BlockDecl)
    case layer(LayerStmt)
    case ifStmt(IfStmt)
    case branch(BranchStmt)
    case order(OrderStmt)

    public var loc: SourceLoc {
        switch self {
        case .model(let i): return i.loc
        case .input(let d): return d.loc
        case .block(let b): return b.loc
        case .layer(let l): return l.loc
        case .ifStmt(let s): return s.loc
        case .branch(let b): return b.loc
        case .order(let o): return o.loc
        }
    }
}

public struct SourceUnit: Sendable {
    public var file: SourceFile
    public var stmts: [Stmt]
}
