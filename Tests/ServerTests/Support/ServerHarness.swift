import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnwindCore
import UnwindEngine
import UnwindServer
import UnwindStore
import UnwindTesting

/// A migrated test database with in-process workers (``EngineHarness``), test workflow definitions on disk, and a
/// real `UnwindServer` listening on a free loopback port.
final class ServerHarness: Sendable {
    static let token = "test-token-0123456789abcdef"

    let engine: EngineHarness
    let workflows: String
    let server: UnwindServer
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var store: WorkflowStore { engine.store }

    /// - Parameters:
    ///   - token: the API token the server accepts (nil: none configured).
    ///   - engine: reuse a harness (e.g. one on an unmigrated database).
    init(token: String? = ServerHarness.token, publicReads: Bool = false, engine: EngineHarness? = nil,
         metrics: (@Sendable () async -> String)? = nil) async throws {
        self.engine = try engine ?? EngineHarness()
        workflows = try TestEnvironment.makeScratchDirectory("server-workflows")
        for (name, yaml) in Self.definitions {
            try yaml.write(toFile: "\(workflows)/\(name).yaml", atomically: true, encoding: .utf8)
        }
        var logger = Logger(label: "test.server")
        logger.logLevel = .critical
        server = UnwindServer(
            configuration: ServerConfiguration(
                host: "127.0.0.1", port: 0, apiToken: token, publicReads: publicReads, workflowsDirectory: workflows,
                registry: self.engine.registry, metrics: metrics),
            store: self.engine.store, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.application { port in _ = continuation.yield(port) }
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        task = Task { [group] in try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw TestFailure(description: "the server did not start") }
        port = bound
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await engine.stopWorkers()
    }

    // MARK: Requests

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var text: String

        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    enum Auth: Sendable {
        case none, token, bearer(String), raw(String)
    }

    func request(_ method: String, _ path: String, auth: Auth = .token, json: Any? = nil, body: String? = nil,
                 contentType: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        switch auth {
        case .none: break
        case .token: request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
        case .bearer(let value): request.headers.add(name: "Authorization", value: "Bearer \(value)")
        case .raw(let value): request.headers.add(name: "Authorization", value: value)
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json)
            request.body = .bytes(ByteBuffer(bytes: data))
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
        } else if let body {
            request.body = .bytes(ByteBuffer(string: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Answer(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            text: String(buffer: buffer))
    }

    /// Submits through the API and returns the new workflow's ID.
    func submit(_ workflow: String, input: [String: Any] = [:], extra: [String: Any] = [:]) async throws -> UUID {
        var body: [String: Any] = ["workflow": workflow, "input": input]
        body.merge(extra) { $1 }
        let answer = try await request("POST", "/api/v1/workflows", json: body)
        guard answer.status == 201 || answer.status == 200, let text = answer.json["id"] as? String, let id = UUID(uuidString: text) else {
            throw TestFailure(description: "submit \(workflow) answered \(answer.status): \(answer.text)")
        }
        return id
    }

    // MARK: Definitions

    static let definitions: [String: String] = [
        "saga": """
            name: saga
            inputs:
              account: {type: string, required: true, pattern: "^[a-z0-9-]+$", max_length: 32}
              note: {type: string, default: ""}
              test: {type: object, default: {}}
            concurrency_key: "account:{account}"
            defaults: {retry: {max_attempts: 2, initial_interval: 50ms, jitter: none}}
            steps:
              - {id: prepare, action: test.noop, compensation: test.undo}
              - {id: commit, action: test.noop, pivot: true}
              - {id: finish, action: test.noop}
            """,
        "planned": """
            name: planned
            plan: test.plan
            inputs:
              fee: {type: number, default: 0}
              accept: {type: array, default: []}
            steps:
              - {id: only, action: test.noop}
            """,
    ]
}
