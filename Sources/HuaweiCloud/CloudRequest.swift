import HuaweiCloudSigning

/// One call to a service, before signing: what the per-service extensions describe and `HuaweiCloudClient` sends.
struct CloudRequest: Sendable {
    /// Which id goes into `X-Project-Id` (project-scoped services) or `X-Domain-Id` (global BSS), as the SDKs do.
    enum Scope: Sendable, Equatable {
        case project(String)
        case domain(String)
    }

    var service: CloudService
    /// Dotted name, as the simulator's ledger and the logs use (`bss.unsubscribe`).
    var operation: String
    var kind: ErrorClassifier.Kind
    var method: String
    /// Already percent-encoded path, built with `CloudRequest.path(_:)`.
    var path: String
    var query: [(String, String)] = []
    var scope: Scope
    var body: [UInt8] = []
    var isMutating: Bool { kind != .read }

    /// Joins path segments, percent-encoding each one so that an id containing `/`, `?` or `%` can never change the
    /// path or the query (ids come from workflow input and cloud answers, neither fully trusted).
    static func path(_ segments: String...) -> String {
        "/" + segments.map { Canonical.encode($0) }.joined(separator: "/")
    }

    /// `k=v&…` with every key and value percent-encoded the way the signer canonicalises them.
    var encodedQuery: String {
        query.map { "\(Canonical.encode($0.0))=\(Canonical.encode($0.1))" }.joined(separator: "&")
    }
}
