
/// One declared workflow input (`inputs:` in the file), checked by ``WorkflowDefinition/validateInput(_:)``.
public struct InputField: Sendable, Codable, Equatable {
    public var name: String
    public var type: InputType
    public var required: Bool
    /// Applied when the submitted input omits the field (or gives `null`).
    public var defaultValue: JSONValue?
    /// Regular expression a string value must contain a match for (anchor it with `^…$` for a full match).
    public var pattern: String? {
        didSet { compiledPattern = pattern.map(CompiledPattern.init) }
    }
    /// Compiled once per definition, not once per value: a 10,000-row fleet validates 10,000 inputs.
    private(set) var compiledPattern: CompiledPattern?
    /// Maximum length in characters for string values.
    public var maxLength: Int?
    /// When set, the value must equal one of these; for an `array` input, each of its elements must.
    public var allowedValues: [JSONValue]?
    public var description: String?

    public typealias InputType = UnwindCore.InputType

    private enum CodingKeys: String, CodingKey {
        case name, type, required, defaultValue, pattern, maxLength, allowedValues, description
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            type: try container.decode(InputType.self, forKey: .type),
            required: try container.decode(Bool.self, forKey: .required),
            defaultValue: try container.decodeIfPresent(JSONValue.self, forKey: .defaultValue),
            pattern: try container.decodeIfPresent(String.self, forKey: .pattern),
            maxLength: try container.decodeIfPresent(Int.self, forKey: .maxLength),
            allowedValues: try container.decodeIfPresent([JSONValue].self, forKey: .allowedValues),
            description: try container.decodeIfPresent(String.self, forKey: .description))
    }

    public init(
        name: String,
        type: InputType,
        required: Bool = false,
        defaultValue: JSONValue? = nil,
        pattern: String? = nil,
        maxLength: Int? = nil,
        allowedValues: [JSONValue]? = nil,
        description: String? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.pattern = pattern
        self.compiledPattern = pattern.map(CompiledPattern.init)
        self.maxLength = maxLength
        self.allowedValues = allowedValues
        self.description = description
    }
}

/// The JSON type a workflow input must have.
public enum InputType: String, Sendable, Codable, Equatable, CaseIterable {
    case string, int, bool, number, object, array
}

extension InputType {
    /// The largest integer (2^53 − 1) a JSON number holds exactly: inputs travel and are stored as JSON, where a
    /// larger one would silently become a neighbouring value.
    public static let largestExactInt: Int = 9_007_199_254_740_991

    /// Why an `int` input cannot hold `value` exactly, or nil.
    public static func exactIntProblem(_ value: Double) -> String? {
        abs(value) <= Double(largestExactInt) ? nil
            : "is beyond ±\(largestExactInt) (2^53 − 1), the largest integer a JSON number holds exactly; declare the field as a string for larger ids"
    }

    /// Whether `value` has this type. `int` accepts only integral numbers; `number` accepts any number.
    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.string, .string), (.bool, .bool), (.number, .number), (.object, .object), (.array, .array):
            return true
        case (.int, .number):
            return value.intValue != nil
        default:
            return false
        }
    }
}

extension InputField {
    /// Why `value` is not of this field's type, or nil.
    func typeProblem(_ value: JSONValue) -> String? {
        type.matches(value) ? nil : "expected \(type.rawValue), got \(value.kindDescription)"
    }

    /// Every way `value` violates this field's declaration, as messages without the field name.
    /// Shared by submit-time validation and load-time checks of `default:` and `enum:`.
    func problems(with value: JSONValue) -> [String] {
        if let problem = typeProblem(value) { return [problem] }
        if let problem = value.storageProblem { return [problem] }
        var problems: [String] = []
        if type == .int, case .number(let number) = value, let problem = InputType.exactIntProblem(number) {
            problems.append(problem)
        }
        if case .string(let string) = value {
            if let maxLength, string.count > maxLength {
                problems.append("is \(string.count) characters long; the maximum is \(maxLength)")
            }
            if let pattern, let limit = compiledPattern?.maximumValueLength, string.unicodeScalars.count > limit {
                problems.append("is \(string.unicodeScalars.count) characters (Unicode scalars) long, too long to check against its pattern, which checks at most \(limit)")
            } else if let pattern {
                switch compiledPattern?.matches(string) {
                case true?: break
                case false?: problems.append("value \(Suggestion.shown(value.canonicalJSON)) does not match pattern \(pattern)")
                case nil: problems.append("pattern \(pattern) is not a valid regular expression")
                }
            }
        }
        if let allowedValues {
            let list = allowedValues.map(\.canonicalJSON).joined(separator: ", ")
            if type == .array, case .array(let elements) = value {
                // For a list, `enum` names what its elements may be (a list of acknowledgements, of regions …).
                let names = allowedValues.compactMap(\.stringValue)
                for element in elements where !allowedValues.contains(element) {
                    let hint = element.stringValue.map { Suggestion.hint(for: $0, in: names) } ?? ""
                    problems.append("element \(Suggestion.shown(element.canonicalJSON)) is not one of \(list)\(hint)")
                }
            } else if !allowedValues.contains(value) {
                problems.append("value \(Suggestion.shown(value.canonicalJSON)) is not one of \(list)")
            }
        }
        return problems
    }

    /// `nil` when the pattern does not compile.
    static func matches(_ string: String, pattern: String) -> Bool? {
        CompiledPattern(pattern).matches(string)
    }

    /// Why `pattern` is not a pattern inputs can use, or nil.
    static func patternProblem(_ pattern: String) -> String? {
        CompiledPattern(pattern).problem
    }
}

/// A pattern compiled once (see ``LinearPattern``: matched in linear time); equal when the source is.
final class CompiledPattern: Sendable, Equatable {
    let source: String
    private let compiled: Result<LinearPattern, LinearPattern.SyntaxError>

    init(_ source: String) {
        self.source = source
        compiled = Result { () throws(LinearPattern.SyntaxError) in try LinearPattern(source) }
    }

    /// Why the pattern does not compile, or nil.
    var problem: String? {
        if case .failure(let error) = compiled { return error.description }
        return nil
    }

    /// The longest value the pattern checks (nil when it does not compile).
    var maximumValueLength: Int? {
        guard case .success(let pattern) = compiled else { return nil }
        return pattern.maximumValueLength
    }

    /// `nil` when the pattern does not compile.
    func matches(_ string: String) -> Bool? {
        guard case .success(let pattern) = compiled else { return nil }
        return pattern.matches(string)
    }

    static func == (lhs: CompiledPattern, rhs: CompiledPattern) -> Bool { lhs.source == rhs.source }
}

extension JSONValue {
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: intValue != nil ? "int" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
