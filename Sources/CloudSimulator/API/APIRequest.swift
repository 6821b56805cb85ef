import Foundation
import HuaweiCloudSigning

/// A cloud request after routing, decoded enough for the handlers.
public struct APIRequest: Sendable {
    public var api: CloudAPI
    public var parameters: [String: String]
    /// Decoded query pairs in request order.
    public var query: [(String, String)]
    public var headers: [(name: String, value: String)]
    public var body: JSON?

    public init(api: CloudAPI, parameters: [String: String] = [:], query: [(String, String)] = [], headers: [(name: String, value: String)] = [], body: JSON? = nil) {
        self.api = api
        self.parameters = parameters
        self.query = query
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public func parameter(_ name: String) -> String { parameters[name] ?? "" }

    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// An optional filter's value: absent or empty is no filter, as the real APIs document their optional
    /// parameters ("not used as a filter when absent or empty").
    public func queryFilter(_ name: String) -> String? { queryValue(name).flatMap { $0.isEmpty ? nil : $0 } }

    /// Refuses filters the simulator has no data for, rather than ignoring them: an answer that looks filtered but
    /// is not would be acted on (a deletion of "the" server at an address).
    public func refuseUnmodelled(_ names: [String]) throws(CloudError) {
        if let name = names.first(where: { queryFilter($0) != nil }) {
            throw parameterError("query parameter \(name) is not modelled by the simulator; leave it out")
        }
    }

    /// Integer query parameter, `nil` when absent, a parameter error when not an integer.
    public func queryInt(_ name: String) throws(CloudError) -> Int? {
        guard let text = queryValue(name) else { return nil }
        guard let value = Int(text) else { throw parameterError("query parameter \(name) must be an integer, got '\(text)'") }
        return value
    }

    /// A paging offset or limit: a whole number, not negative.
    public func queryCount(_ name: String) throws(CloudError) -> Int? {
        guard let value = try queryInt(name) else { return nil }
        guard value >= 0 else { throw parameterError("query parameter \(name) must not be negative, got \(value)") }
        return value
    }

    /// A time filter in BSS's format (`yyyy-MM-dd'T'HH:mm:ss'Z'`). A value that is not a time is an error rather
    /// than no filter: the caller would otherwise believe the answer filtered.
    public func queryTime(_ name: String) throws(CloudError) -> Date? {
        guard let text = queryValue(name), !text.isEmpty else { return nil }  // empty: not a filter
        guard let date = ISOTime.parse(text) else { throw parameterError("query parameter \(name) must be a UTC time like 2026-01-31T08:00:00Z, got '\(text)'") }
        return date
    }

    public func queryBool(_ name: String) throws(CloudError) -> Bool? {
        guard let text = queryValue(name) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw parameterError("query parameter \(name) must be true or false, got '\(text)'")
        }
    }

    /// The body as an object (an empty body is an empty object).
    public func bodyObject() throws(CloudError) -> JSON {
        switch body {
        case nil: return .object([])
        case .object?: return body!
        default: throw parameterError("the request body must be a JSON object")
        }
    }

    public func bodyStrings(_ field: String, required: Bool) throws(CloudError) -> [String]? {
        guard let value = try bodyObject()[field], value != .null else {
            if required { throw parameterError("\(field) is required") }
            return nil
        }
        guard let items = value.arrayValue else { throw parameterError("\(field) must be an array of strings") }
        var strings: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw parameterError("\(field) must be an array of strings") }
            strings.append(s)
        }
        return strings
    }

    public func bodyInt(_ field: String) throws(CloudError) -> Int? {
        guard let value = try bodyObject()[field], value != .null else { return nil }
        guard let int = value.intValue else { throw parameterError("\(field) must be an integer (a whole number that fits 64 bits)") }
        return Int(int)
    }

    /// A time filter in the body, in BSS's format; see ``queryTime(_:)``.
    public func bodyTime(_ field: String) throws(CloudError) -> Date? {
        guard let value = try bodyObject()[field], value != .null else { return nil }
        guard let text = value.stringValue, let date = ISOTime.parse(text) else {
            throw parameterError("\(field) must be a UTC time like 2026-01-31T08:00:00Z")
        }
        return date
    }

    /// A paging offset or limit in the body: a whole number, not negative.
    public func bodyCount(_ field: String) throws(CloudError) -> Int? {
        guard let value = try bodyInt(field) else { return nil }
        guard value >= 0 else { throw parameterError("\(field) must not be negative, got \(value)") }
        return value
    }

    public func bodyBool(_ field: String) throws(CloudError) -> Bool? {
        guard let value = try bodyObject()[field], value != .null else { return nil }
        guard let bool = value.boolValue else { throw parameterError("\(field) must be true or false") }
        return bool
    }

    /// A parameter error in the shape and code family of the request's service.
    public func parameterError(_ message: String) -> CloudError {
        switch api.service {
        case .bss: CloudError(status: 400, code: "CBC.0100", message: "Invalid parameter: \(message)")
        case .ecs: CloudError(status: 400, code: "Ecs.0005", message: "Request parameter error: \(message)", shape: .nested)
        case .vpcep: CloudError(status: 400, code: "EndPoint.0002", message: "Parameter error: \(message)")
        case .secmaster: CloudError(status: 400, code: "SIM.SecMaster.0400", message: "Invalid parameter: \(message)")
        }
    }
}

/// What a handler answers.
public struct APIResult: Sendable {
    public var status: Int
    public var body: JSON?
    public var mutation: CloudState.Mutation?

    public init(status: Int, body: JSON?, mutation: CloudState.Mutation? = nil) {
        self.status = status
        self.body = body
        self.mutation = mutation
    }
}

/// Request-scoped switches set by fault rules that act inside the handler rather than around it.
public struct HandlerFaults: Sendable, Equatable {
    /// ECS delete: the new job fails.
    public var failJob = false
    public init(failJob: Bool = false) { self.failJob = failJob }
}

/// Offset/limit paging shared by the list handlers.
func page<T>(_ items: [T], offset: Int, limit: Int) -> [T] {
    guard offset < items.count, limit > 0 else { return [] }
    let start = max(0, offset)
    return Array(items[start..<(start + min(items.count - start, limit))])  // no `start + limit`: limit may be Int.max
}
