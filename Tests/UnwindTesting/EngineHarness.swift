import Foundation
import Logging
import Postgres
import Synchronization
import UnwindCore
import UnwindEngine
import UnwindStore

/// A migrated test database, a store, and in-process workers running the built-in test actions.
public final class EngineHarness: Sendable {
    public let database: TestDatabase
    public let pool: PostgresConnectionPool
    public let store: WorkflowStore
    public let registry: ActionRegistry
    private let workers = Mutex<[Worker]>([])

    public convenience init(registry custom: ActionRegistry? = nil) throws {
        try self.init(database: try TestDatabase.create(migrated: true), registry: custom)
    }

    /// On a given database (e.g. one left unmigrated on purpose).
    public init(database: TestDatabase, registry custom: ActionRegistry? = nil) throws {
        self.database = database
        pool = PostgresConnectionPool(configuration: database.configuration, maximumConnections: 8)
        var logger = Logger(label: "test.store")
        logger.logLevel = .critical
        store = WorkflowStore(pool: pool, logger: logger)
        registry = custom ?? {
            var registry = ActionRegistry()
            TestActions.register(into: &registry)
            return registry
        }()
    }

    deinit {
        // Ask, do not wait: deinit runs on the thread that dropped the last reference, usually one of the
        // cooperative pool's, and a test may leave a step sleeping for seconds. The database is thrown away.
        _ = requestStopOfAllWorkers()
    }

    /// Asks every worker started here to stop and forgets them; returns them to wait for.
    private func requestStopOfAllWorkers() -> [Worker] {
        let running = workers.withLock { workers in
            defer { workers.removeAll() }
            return workers
        }
        for worker in running { worker.requestStop() }
        return running
    }

    public func definition(_ yaml: String) throws -> WorkflowDefinition {
        try WorkflowDefinitionLoader.load(yaml: yaml, file: "test", knownActions: registry.names)
    }

    @discardableResult
    public func submit(_ definition: WorkflowDefinition, input: [String: JSONValue] = [:], idempotencyKey: String? = nil,
                notBefore: Date? = nil) throws -> UUID {
        try WorkflowSubmitter(store: store).submit(
            definition, input: input, idempotencyKey: idempotencyKey, notBefore: notBefore, submittedBy: "test").workflowID
    }

    /// Starts a worker on its own thread, with short leases and intervals so tests finish quickly.
    @discardableResult
    public func startWorker(concurrency: Int = 4, lease: Duration = .seconds(5), grace: Duration = .seconds(5),
                            unwritableRetry: Duration = .seconds(300)) -> Worker {
        var logger = Logger(label: "test.worker")
        logger.logLevel = .critical
        var configuration = WorkerConfiguration(
            concurrency: concurrency, leaseDuration: lease, pollInterval: .milliseconds(200),
            maintenanceInterval: .milliseconds(100), shutdownGracePeriod: grace)
        configuration.unwritableRetryInterval = unwritableRetry
        let worker = Worker(store: store, registry: registry, configuration: configuration, logger: logger)
        Thread.detachNewThread { try? worker.run() }
        workers.withLock { $0.append(worker) }
        return worker
    }

    /// Stops the workers and waits (with `Task.sleep`, not by blocking a pool thread) for their steps to drain.
    public func stopWorkers() async {
        for worker in requestStopOfAllWorkers() {
            let deadline = Date().addingTimeInterval(10)
            while worker.runningSteps > 0 && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Polls until the workflow reaches one of `states` (or throws after `timeout`).
    @discardableResult
    public func waitFor(_ id: UUID, in states: Set<String>, timeout: TimeInterval = 30) async throws -> WorkflowRecord {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let workflow = try store.workflow(id)
            if states.contains(workflow.state) { return workflow }
            if Date() > deadline {
                let steps = try store.steps(of: id).map { step in
                    "\(step.stepID)=\(step.state)/\(step.phase)" + (step.lastError.map { " (last error: \($0.canonicalJSON))" } ?? "")
                }.joined(separator: " ")
                throw TestFailure(description: "workflow \(id) is \(workflow.state) after \(timeout)s, expected \(states.sorted()); steps: \(steps)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Polls until `condition` holds.
    public func waitUntil(timeout: TimeInterval = 30, _ what: String, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            if Date() > deadline { throw TestFailure(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func events(_ id: UUID) throws -> [EventRecord] { try store.events(of: id) }
    public func kinds(_ id: UUID) throws -> [String] { try events(id).map(\.kind) }
}

public typealias HarnessError = TestFailure

/// A definition with a `test` input so the built-in test actions can be scripted per step.
public let teardownLikeYAML = """
    name: saga
    inputs:
      test: {type: object, default: {}}
      sleep_ms: {type: int, default: 0}
    defaults:
      retry: {max_attempts: 3, initial_interval: 100ms, multiplier: 2, max_interval: 1s, jitter: none}
      timeout: 30s
    steps:
      - {id: inventory, action: test.noop}
      - {id: prepare, action: test.noop, compensation: test.undo}
      - {id: reserve, action: test.noop, compensation: test.undo}
      - {id: commit, action: test.noop, pivot: true}
      - {id: finish, action: test.noop}
    """

/// `teardownLikeYAML` whose attempts may run for half an hour: for tests that kill or stop a worker in the middle
/// of a step that sleeps far longer than any loaded machine can delay the test, so the attempt never ends (or times
/// out) on its own first.
public let teardownLikeYAMLWithLongAttempts = teardownLikeYAML.replacingOccurrences(of: "timeout: 30s", with: "timeout: 30m")

/// How long a step sleeps when the test means "until it is killed or stopped".
public let sleepsUntilStopped: JSONValue = 1_800_000

public func script(_ steps: [String: JSONValue]) -> [String: JSONValue] {
    ["test": .object(steps)]
}
