import Foundation

/// Maps a method and path to a `CloudAPI` and its path parameters.
public struct RouteMatcher: Sendable {
    public struct Match: Sendable, Equatable {
        public var api: CloudAPI
        public var parameters: [String: String]
    }

    private let routes: [(api: CloudAPI, segments: [Substring])]

    public init() {
        // Literal segments must win over parameters (`cloudservers/detail` vs `cloudservers/{server_id}`), so
        // routes with more literal segments are tried first.
        routes = CloudAPI.allCases
            .map { ($0, $0.template.split(separator: "/")) }
            .sorted { lhs, rhs in lhs.1.filter { !$0.hasPrefix("{") }.count > rhs.1.filter { !$0.hasPrefix("{") }.count }
    }

    public func match(method: String, path: String) -> Match? {
        let parts = path.split(separator: "/")
        for route in routes where route.api.method == method.uppercased() && route.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (template, actual) in zip(route.segments, parts) {
                if template.hasPrefix("{") {
                    // SDKs percent-encode path parameters (an id holding a space, '*', '(' or '/'); compare decoded.
                    parameters[String(template.dropFirst().dropLast())] = String(actual).removingPercentEncoding ?? String(actual)
                } else if template != actual {
                    matched = false
                    break
                }
            }
            if matched { return Match(api: route.api, parameters: parameters) }
        }
        return nil
    }
}
