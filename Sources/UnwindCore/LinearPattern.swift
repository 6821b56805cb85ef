/// A regular expression for input `pattern`s, matched in time linear in the value (Thompson's construction, as in
/// RE2 and Go's `regexp`): a pattern such as `^([a-z0-9]+-?)+$` cannot make a 30-character value take minutes, as
/// it does with a backtracking engine (Swift's `Regex` included, which ignores task cancellation). Input values
/// come from API clients and fleet files, so the matcher must stay fast whatever they send.
///
/// The syntax is the common subset: literals, `.`, classes (`[a-z_]`, `[^0-9]`), the escapes `\d \D \w \W \s \S`,
/// escaped punctuation, `\n \r \t \f \v`, `\xHH`, `\u{HHHH}`, anchors `^` and `$` (start and end of the value),
/// groups `( )` and `(?: )`, alternation `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (a lazy `?` suffix is
/// accepted; it changes nothing for a yes/no match). What needs backtracking (back-references, lookaround,
/// possessive quantifiers) or changes the matching mode (inline flags) is refused with a message when the
/// definition loads. Matching is per Unicode scalar; the value must contain a match (anchor with `^…$`).
struct LinearPattern: Sendable {
    struct SyntaxError: Error, CustomStringConvertible {
        var description: String
    }

    /// One element of a class.
    private enum ClassItem: Sendable {
        case range(UInt32, UInt32)
        case digit(negated: Bool)
        case word(negated: Bool)
        case space(negated: Bool)

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            switch self {
            case .range(let low, let high): return low <= scalar.value && scalar.value <= high
            case .digit(let negated): return scalar.properties.numericType == .decimal ? !negated : negated
            case .word(let negated):
                let word = scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                return word ? !negated : negated
            case .space(let negated): return scalar.properties.isWhitespace ? !negated : negated
            }
        }
    }

    private struct CharClass: Sendable {
        var items: [ClassItem]
        var negated: Bool

        func contains(_ scalar: Unicode.Scalar) -> Bool { items.contains { $0.contains(scalar) } != negated }
        static func single(_ scalar: Unicode.Scalar) -> CharClass { CharClass(items: [.range(scalar.value, scalar.value)], negated: false) }
        /// `.`: anything but a line break.
        static let dot = CharClass(items: [.range(0x0A, 0x0A), .range(0x0D, 0x0D)], negated: true)
    }

    private indirect enum Node {
        case empty
        case char(CharClass)
        case start, end
        case concat([Node])
        case alternate([Node])
        case `repeat`(Node, min: Int, max: Int?)
    }

    private enum Instruction: Sendable {
        case char(CharClass)
        case split(Int, Int)
        case jump(Int)
        case assertStart, assertEnd
        case match
    }

    /// Bounds that keep a hostile definition from building a huge program (`a{1000}{1000}`).
    static let maximumCount = 1_000
    /// (A match costs at most this many steps per character of the value.)
    static let maximumProgram = 10_000

    private let program: [Instruction]

    init(_ source: String) throws(SyntaxError) {
        var parser = Parser(scalars: Array(source.unicodeScalars))
        let node = try parser.parseAll()
        var program: [Instruction] = []
        try Self.emit(node, into: &program)
        program.append(.match)
        self.program = program
    }

    /// The most matching steps one value may cost (a match costs up to the program's size per character): a
    /// pattern near ``maximumProgram`` against a megabyte of input took minutes of a server's CPU.
    static let maximumWork = 20_000_000

    /// The longest value (in Unicode scalars) this pattern checks within ``maximumWork``.
    var maximumValueLength: Int { Self.maximumWork / max(program.count, 1) }

    /// Whether `value` contains a match.
    func matches(_ value: String) -> Bool {
        let scalars = Array(value.unicodeScalars)
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        for position in 0...scalars.count {
            // A match may start anywhere: a new thread enters at every position.
            if add(0, at: position, count: scalars.count, to: &current) { return true }
            guard position < scalars.count else { break }
            next.clear()
            let scalar = scalars[position]
            for pc in current.members {
                if case .char(let set) = program[pc], set.contains(scalar), add(pc + 1, at: position + 1, count: scalars.count, to: &next) {
                    return true
                }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Follows the empty moves from `pc` at `position`; true when one reaches `match`.
    private func add(_ start: Int, at position: Int, count: Int, to list: inout ThreadList) -> Bool {
        var stack = [start]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .match: return true
            case .jump(let target): stack.append(target)
            case .split(let first, let second): stack.append(second); stack.append(first)
            case .assertStart: if position == 0 { stack.append(pc + 1) }
            case .assertEnd: if position == count { stack.append(pc + 1) }
            case .char: break
            }
        }
        return false
    }

    /// A set of program counters in insertion order, cleared in O(1) (a sparse set).
    private struct ThreadList {
        var dense: [Int]
        var sparse: [Int]
        var count = 0

        init(capacity: Int) {
            dense = Array(repeating: 0, count: capacity)
            sparse = Array(repeating: 0, count: capacity)
        }

        var members: ArraySlice<Int> { dense[0..<count] }
        mutating func clear() { count = 0 }

        mutating func insert(_ pc: Int) -> Bool {
            let slot = sparse[pc]
            if slot < count && dense[slot] == pc { return false }
            sparse[pc] = count
            dense[count] = pc
            count += 1
            return true
        }
    }

    private static func emit(_ node: Node, into program: inout [Instruction]) throws(SyntaxError) {
        guard program.count <= maximumProgram else {
            throw SyntaxError(description: "it expands to more than \(maximumProgram) matching steps; use smaller counts in {n,m}")
        }
        switch node {
        case .empty: break
        case .char(let set): program.append(.char(set))
        case .start: program.append(.assertStart)
        case .end: program.append(.assertEnd)
        case .concat(let nodes): for child in nodes { try emit(child, into: &program) }
        case .alternate(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    try emit(branch, into: &program)
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch, into: &program)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repeat(let body, let min, let max):
            for _ in 0..<min { try emit(body, into: &program) }
            if let max {
                // Each optional copy may be skipped to the end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    try emit(body, into: &program)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let loop = program.count
                program.append(.split(loop + 1, 0))
                try emit(body, into: &program)
                program.append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func parseAll() throws(SyntaxError) -> Node {
            let node = try parseAlternation(depth: 0)
            if !atEnd { throw SyntaxError(description: "unbalanced ')' at position \(index + 1)") }
            return node
        }

        mutating func parseAlternation(depth: Int) throws(SyntaxError) -> Node {
            guard depth < 100 else { throw SyntaxError(description: "groups are nested more than 100 deep") }
            var branches = [try parseConcatenation(depth: depth)]
            while peek == "|" {
                index += 1
                branches.append(try parseConcatenation(depth: depth))
            }
            return branches.count == 1 ? branches[0] : .alternate(branches)
        }

        mutating func parseConcatenation(depth: Int) throws(SyntaxError) -> Node {
            var items: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                var atom = try parseAtom(depth: depth)
                while let quantifier = try parseQuantifier() {
                    if case .start = atom { throw SyntaxError(description: "a quantifier cannot follow '^'") }
                    if case .end = atom { throw SyntaxError(description: "a quantifier cannot follow '$'") }
                    atom = .repeat(atom, min: quantifier.min, max: quantifier.max)
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
        }

        mutating func parseQuantifier() throws(SyntaxError) -> (min: Int, max: Int?)? {
            guard let scalar = peek else { return nil }
            var result: (min: Int, max: Int?)
            switch scalar {
            case "*": result = (0, nil); index += 1
            case "+": result = (1, nil); index += 1
            case "?": result = (0, 1); index += 1
            case "{":
                guard let braces = try parseBraces() else { return nil }
                result = braces
            default: return nil
            }
            if peek == "?" { index += 1 }  // lazy: the same yes/no answer
            else if peek == "+" { throw SyntaxError(description: "possessive quantifiers (like '++') are not supported") }
            return result
        }

        /// `{n}`, `{n,}`, `{n,m}`; nil (a literal `{`) when the braces do not hold a count.
        mutating func parseBraces() throws(SyntaxError) -> (min: Int, max: Int?)? {
            var cursor = index + 1
            func number() -> Int? {
                var digits = ""
                while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]) { digits.unicodeScalars.append(scalars[cursor]); cursor += 1 }
                return digits.isEmpty ? nil : Int(digits.prefix(9))
            }
            guard let low = number() else { return nil }
            var high: Int? = low
            if cursor < scalars.count, scalars[cursor] == "," {
                cursor += 1
                high = number()
            }
            guard cursor < scalars.count, scalars[cursor] == "}" else { return nil }
            index = cursor + 1
            if low > LinearPattern.maximumCount || (high ?? 0) > LinearPattern.maximumCount {
                throw SyntaxError(description: "a count in {n,m} may be at most \(LinearPattern.maximumCount)")
            }
            if let high, high < low { throw SyntaxError(description: "{\(low),\(high)} has its bounds the wrong way round") }
            return (low, high)
        }

        mutating func parseAtom(depth: Int) throws(SyntaxError) -> Node {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "(":
                if peek == "?" {
                    guard index + 1 < scalars.count, scalars[index + 1] == ":" else {
                        throw SyntaxError(description: "'(?' groups other than '(?:' (lookaround, named groups, inline flags) are not supported")
                    }
                    index += 2
                }
                let inner = try parseAlternation(depth: depth + 1)
                guard peek == ")" else { throw SyntaxError(description: "missing ')'") }
                index += 1
                return inner
            case "[": return .char(try parseClass())
            case ".": return .char(.dot)
            case "^": return .start
            case "$": return .end
            case "\\": return .char(try parseEscape(inClass: false))
            case "*", "+", "?": throw SyntaxError(description: "'\(scalar)' at position \(index) has nothing to repeat")
            default: return .char(.single(scalar))
            }
        }

        mutating func parseClass() throws(SyntaxError) -> CharClass {
            var set = CharClass(items: [], negated: false)
            if peek == "^" { set.negated = true; index += 1 }
            var first = true
            while true {
                guard let scalar = peek else { throw SyntaxError(description: "missing ']'") }
                if scalar == "]" && !first { index += 1; break }
                first = false
                if scalar == "[" && index + 1 < scalars.count && scalars[index + 1] == ":" {
                    throw SyntaxError(description: "POSIX classes like [:alpha:] are not supported; list the characters, e.g. [A-Za-z]")
                }
                index += 1
                let low: ClassItem
                if scalar == "\\" {
                    let escaped = try parseEscape(inClass: true)
                    guard case .range(let value, let end) = escaped.items[0], value == end else {
                        set.items += escaped.items  // \d, \w, \s and their negations
                        continue
                    }
                    low = .range(value, value)
                } else {
                    low = .range(scalar.value, scalar.value)
                }
                // A range `a-z` (a `-` first, last or after a range is literal).
                if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]", case .range(let start, _) = low {
                    index += 1
                    var endScalar = scalars[index]
                    index += 1
                    if endScalar == "\\" {
                        let escaped = try parseEscape(inClass: true)
                        guard escaped.items.count == 1, case .range(let value, _) = escaped.items[0], let end = Unicode.Scalar(value) else {
                            throw SyntaxError(description: "a class range must end in a single character")
                        }
                        endScalar = end
                    }
                    guard start <= endScalar.value else { throw SyntaxError(description: "class range out of order") }
                    set.items.append(.range(start, endScalar.value))
                } else {
                    set.items.append(low)
                }
            }
            return set
        }

        mutating func parseEscape(inClass: Bool) throws(SyntaxError) -> CharClass {
            guard let scalar = peek else { throw SyntaxError(description: "the pattern ends with a lone '\\'") }
            index += 1
            switch scalar {
            case "d": return CharClass(items: [.digit(negated: false)], negated: false)
            case "D": return CharClass(items: [.digit(negated: true)], negated: false)
            case "w": return CharClass(items: [.word(negated: false)], negated: false)
            case "W": return CharClass(items: [.word(negated: true)], negated: false)
            case "s": return CharClass(items: [.space(negated: false)], negated: false)
            case "S": return CharClass(items: [.space(negated: true)], negated: false)
            case "n": return .single("\n")
            case "r": return .single("\r")
            case "t": return .single("\t")
            case "f": return .single("\u{0C}")
            case "v": return .single("\u{0B}")
            case "x":
                guard index + 1 < scalars.count, let value = UInt32(String(String.UnicodeScalarView(scalars[index...(index + 1)])), radix: 16) else {
                    throw SyntaxError(description: "\\x needs two hex digits")
                }
                index += 2
                return .single(Unicode.Scalar(UInt8(value)))
            case "u":
                guard peek == "{", let close = scalars[index...].firstIndex(of: "}"),
                      let value = UInt32(String(String.UnicodeScalarView(scalars[(index + 1)..<close])), radix: 16), let decoded = Unicode.Scalar(value) else {
                    throw SyntaxError(description: "\\u needs a code point in braces, e.g. \\u{00E9}")
                }
                index = close + 1
                return .single(decoded)
            case "1"..."9": throw SyntaxError(description: "back-references (\\\(scalar)) are not supported")
            case "b", "B", "A", "z", "Z", "G", "p", "P", "k", "K", "Q", "E":
                throw SyntaxError(description: "the escape \\\(scalar) is not supported")
            default:
                guard !scalar.properties.isAlphabetic, !("0"..."9").contains(scalar) else {
                    throw SyntaxError(description: "unknown escape \\\(scalar)")
                }
                return .single(scalar)  // escaped punctuation: \. \- \\ \[ …
            }
        }
    }
}
