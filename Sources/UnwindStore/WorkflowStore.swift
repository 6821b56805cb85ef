import Foundation
import Logging
import Postgres
import Synchronization
import UnwindCore

/// The durable state of workflows in PostgreSQL: submission, claiming under leases, recording results,
/// and operator actions. Every state change of a step is written together with its event-history rows in one
/// transaction, by applying ``SagaStateMachine`` to a snapshot read under the workflow's row lock.
///
/// Lock order, everywhere: workflow rows (by id), then their step rows. The claim statement only locks step
/// rows with `SKIP LOCKED`, so it never waits on a transition in progress.
public final class WorkflowStore: Sendable {
    public let pool: PostgresConnectionPool
    private let definitions = Mutex<[Int64: WorkflowDefinition]>([:])
    private let logger: Logger

    public static let readyChannel = "unwind_ready"

    public init(pool: PostgresConnectionPool, logger: Logger = Logger(label: "unwind.store")) {
        self.pool = pool
        self.logger = logger
    }

    // MARK: - Submission

    /// Creates a workflow (or returns the existing one with the same idempotency key).
    /// Throws ``StoreError/concurrencyKeyHeld(key:holder:state:)`` when its concurrency key is taken.
    public func submit(_ request: SubmitRequest) throws -> SubmitOutcome {
        let concurrencyKey = request.definition.renderConcurrencyKey(input: request.input)
        do {
            return try pool.transaction { connection in
                try self.submit(request, concurrencyKey: concurrencyKey, on: connection)
            }
        } catch let error as PostgresError where error.isUniqueViolation && concurrencyKey != nil
            && (error.detail?.contains("concurrency_key") ?? false) {
            let holder = try pool.withConnection { connection in
                try connection.query(
                    SQL.Engine.activeWorkflowByConcurrencyKey.text, [concurrencyKey],
                    name: SQL.Engine.activeWorkflowByConcurrencyKey.name).first
            }
            throw StoreError.concurrencyKeyHeld(
                key: concurrencyKey ?? "", holder: try holder?.decode("id", as: UUID.self) ?? UUID(),
                state: try holder?.decode("state", as: String.self) ?? "active")
        }
    }

    /// Submits inside a caller's transaction (fleet submission batches many in one).
    public func submit(_ request: SubmitRequest, concurrencyKey: String?, on connection: PostgresConnection) throws -> SubmitOutcome {
        let definitionID = try storeDefinition(request.definition, on: connection)
        let now = Date()
        let snapshot = SagaSnapshot.initial(for: request.definition, startAt: request.notBefore, now: now)
        let id = UUID()
        let inserted = try connection.query(SQL.Engine.insertWorkflow.text, [
            id, definitionID, request.definition.name, snapshot.state.rawValue, request.queue, request.priority,
            PostgresRawJSON(JSONValue.object(request.input).canonicalJSON),
            PostgresJSON(request.labels), request.idempotencyKey, concurrencyKey, request.notBefore,
            request.submittedBy,
        ], name: SQL.Engine.insertWorkflow.name)
        if inserted.isEmpty, let key = request.idempotencyKey {
            guard let existing = try connection.query(
                SQL.Engine.workflowByIdempotencyKey.text, [key], name: SQL.Engine.workflowByIdempotencyKey.name
            ).first else {
                throw StoreError.corruptRow("idempotency key '\(key)' conflicted but no workflow holds it")
            }
            let holder = try KeyHolder(existing)
            guard holder.isRepeat(of: request) else { throw StoreError.idempotencyKeyReused(key: key, holder: holder.id) }
            return .existing(holder.id)
        }
        let steps = request.definition.steps
        let dueAt = request.notBefore ?? now
        try connection.enqueue(PostgresStatement(SQL.Engine.insertSteps.text, [
            id, request.queue, dueAt,
            steps.map(\.id), Array(steps.indices), steps.map(\.action),
            steps.map { snapshot.steps[$0.id]?.state.rawValue ?? StepState.blocked.rawValue },
            // A step's priority is its workflow's (`--priority`) plus its own within the definition.
            steps.map { $0.priority + request.priority }, steps.map(\.after.count),
            steps.map { "\(id.uuidString.lowercased()):\($0.id)" },
        ], name: SQL.Engine.insertSteps.name))
        var details: [String: JSONValue] = ["workflow": .string(request.definition.name), "definition_hash": .string(request.definition.contentHash)]
        if let notBefore = request.notBefore { details["not_before"] = .string(notBefore.formatted(.iso8601)) }
        try insertEvents([EventRow(workflowID: id, kind: "workflow_submitted", actor: request.submittedBy, details: .object(details))], on: connection)
        if snapshot.state == .running {
            try connection.enqueue(PostgresStatement(SQL.Engine.notifyReady.text, [request.queue], name: SQL.Engine.notifyReady.name))
        }
        return .created(id)
    }

    /// The workflow an idempotency key already belongs to. A submission with the same key is a repeat only when it
    /// names the same workflow with the same input (compared by value: the stored jsonb's formatting is its own);
    /// otherwise answering with this workflow would make the submission look done when it was not.
    struct KeyHolder {
        var id: UUID
        var workflow: String
        var input: JSONValue

        init(id: UUID, workflow: String, input: JSONValue) {
            self.id = id
            self.workflow = workflow
            self.input = input
        }

        /// From a row with `id`, `workflow_name` and `input`.
        init(_ row: PostgresRow) throws {
            self.init(id: try row.decode("id"), workflow: try row.decode("workflow_name"), input: try WorkflowStore.json(row, "input") ?? .object([:]))
        }

        func isRepeat(of request: SubmitRequest) -> Bool {
            workflow == request.definition.name && input == .object(request.input)
        }
    }

    func storeDefinition(_ definition: WorkflowDefinition, on connection: PostgresConnection) throws -> Int64 {
        let compiled = try String(decoding: JSONEncoder().encode(definition), as: UTF8.self)
        // When a concurrent transaction inserts the same definition first, ours waits for it, does nothing, and its
        // SELECT branch still runs on the snapshot from before that commit: no row. The statement run again takes
        // a new snapshot (READ COMMITTED) and finds it.
        for _ in 1...3 {
            let row = try connection.query(SQL.Engine.upsertDefinition.text, [
                definition.name, definition.contentHash, definition.source, PostgresRawJSON(compiled),
            ], name: SQL.Engine.upsertDefinition.name).first
            if let row {
                let id: Int64 = try row.decode("id")
                definitions.withLock { $0[id] = definition }
                return id
            }
        }
        throw StoreError.corruptRow("could not store definition \(definition.name)")
    }

    // MARK: - Claiming

    /// Claims up to `limit` due steps for `workerID` with a lease of `leaseSeconds`.
    public func claim(queues: [String], limit: Int, workerID: String, leaseSeconds: Double) throws -> [ClaimedStep] {
        guard limit > 0 else { return [] }
        return try pool.withConnection { connection in
            try claim(queues: queues, limit: limit, workerID: workerID, leaseSeconds: leaseSeconds, on: connection)
        }
    }

    /// Records attempt results and claims new work in one transaction: one commit for many completions, and
    /// the next step of a workflow whose step just completed can be claimed by the same worker at once.
    ///
    /// A step made ready here is claimed only within this transaction, so it never starts before its
    /// predecessor's completion is durable. Other workers are notified only if ready work is left over.
    /// With `lookForMore: false` only the steps these results made ready are started (no claim statement runs).
    public func complete(
        _ results: [AttemptResult], thenClaim limit: Int, queues: [String], workerID: String, leaseSeconds: Double,
        lookForMore: Bool = true
    ) throws -> CompletionBatch {
        guard !results.isEmpty else {
            return CompletionBatch(dispositions: [], claimed: try claim(queues: queues, limit: limit, workerID: workerID, leaseSeconds: leaseSeconds))
        }
        do {
            return try completeTogether(results, thenClaim: limit, queues: queues, workerID: workerID, leaseSeconds: leaseSeconds,
                                        lookForMore: lookForMore)
        } catch where Self.isUnreadableRow(error) {
            // One workflow whose rows cannot be read (edited or damaged by hand) must not keep every other result of
            // the batch from being written: write them workflow by workflow, and set the unreadable one aside.
            return completeOneByOne(results, thenClaim: limit, queues: queues, workerID: workerID, leaseSeconds: leaseSeconds)
        }
    }

    /// ``complete(_:thenClaim:queues:workerID:leaseSeconds:lookForMore:)`` after a batch failed on an unreadable row:
    /// each workflow's results in a transaction of their own. Those of a workflow that cannot be read come back
    /// `unwritable`; after any other failure the rest come back `deferred`, and what was written and started stays so.
    private func completeOneByOne(
        _ results: [AttemptResult], thenClaim limit: Int, queues: [String], workerID: String, leaseSeconds: Double
    ) -> CompletionBatch {
        var dispositions = [ResultDisposition](repeating: .deferred, count: results.count)
        var claimed: [ClaimedStep] = []
        let groups = Dictionary(grouping: results.indices) { results[$0].workflowID }.sorted { $0.key.uuidString < $1.key.uuidString }
        for (_, indices) in groups {
            do {
                let batch = try completeTogether(indices.map { results[$0] }, thenClaim: max(0, limit - claimed.count), queues: queues,
                                                 workerID: workerID, leaseSeconds: leaseSeconds, lookForMore: false)
                for (index, disposition) in zip(indices, batch.dispositions) { dispositions[index] = disposition }
                claimed += batch.claimed
            } catch where Self.isUnreadableRow(error) {
                // The worker names the workflow and the step in its log.
                for index in indices { dispositions[index] = .unwritable(reason: "\(error)") }
            } catch {
                logger.warning("could not write the rest of a batch; keeping it for the next one", metadata: ["error": "\(error)"])
                return CompletionBatch(dispositions: dispositions, claimed: claimed)
            }
        }
        // No claim for more work here: the worker's next round claims it, through the path that hands back what
        // it cannot read.
        return CompletionBatch(dispositions: dispositions, claimed: claimed)
    }

    private func completeTogether(
        _ results: [AttemptResult], thenClaim limit: Int, queues: [String], workerID: String, leaseSeconds: Double,
        lookForMore: Bool
    ) throws -> CompletionBatch {
        let changes = results.map { Self.change(for: $0, workerID: workerID) }
        let eager = EagerStart(limit: limit, queues: Set(queues), workerID: workerID, leaseSeconds: leaseSeconds)
        let (outcomes, started, claimRows) = try pool.transaction { connection in
            var madeReady = false
            var started: [ClaimedStep] = []
            let outcomes = try self.apply(changes, on: connection, notify: false, madeReady: &madeReady,
                                          eager: eager, started: &started)
            let rest = lookForMore ? limit - started.count : 0
            var closing: [PostgresStatement] = []
            if rest > 0 {
                closing.append(PostgresStatement(SQL.Engine.claimSteps.text, [queues, rest, workerID, leaseSeconds],
                                                 name: SQL.Engine.claimSteps.name))
            }
            if madeReady {
                // Steps became ready that this worker did not start: wake the others if the claim left any.
                closing.append(PostgresStatement(
                    SQL.Engine.notifyIfStepsReady.text, ["default", Array(Set(results.map(\.workflowID)))],
                    name: SQL.Engine.notifyIfStepsReady.name))
            }
            // The writes, the claim and the COMMIT in one round trip. The claimed rows come back only once the
            // commit has succeeded, so nothing starts before its predecessor's completion is durable.
            let closed = try connection.commit(after: closing)
            return (outcomes, started, rest > 0 ? closed[0].rows : [])
        }
        // What the claimed steps read (their definitions and their workflows' outputs) is read after the commit:
        // both are immutable while this worker holds the steps' leases.
        var claimed: [ClaimedStep] = []
        if !claimRows.isEmpty {
            do {
                claimed = try pool.withConnection { try self.claimedSteps(from: claimRows, workerID: workerID, on: $0) }
            } catch {
                // The results are durable, so this must not fail the batch (the caller would write them again).
                // Hand the claimed steps back instead, without counting their attempt; if even that fails, their
                // leases expire and they are rescued.
                logger.warning("could not read what claimed steps need; handing them back", metadata: ["error": "\(error)"])
                try? releaseLeases(claimRows.compactMap { row in
                    guard let workflowID = try? row.decode("workflow_id", as: UUID.self),
                          let stepID = try? row.decode("step_id", as: String.self),
                          let token = try? row.decode("fencing_token", as: Int64.self) else { return nil }
                    let resumed = (try? row.decode("previous_state", as: String.self)) == "waiting"
                    return (workflowID, stepID, token, resumed)
                }, workerID: workerID)
            }
        }
        return CompletionBatch(dispositions: outcomes.map { $0 == .stale ? .staleLease : .applied }, claimed: started + claimed)
    }

    private func claim(queues: [String], limit: Int, workerID: String, leaseSeconds: Double, on connection: PostgresConnection) throws -> [ClaimedStep] {
        guard limit > 0 else { return [] }
        let rows = try connection.query(
            SQL.Engine.claimSteps.text, [queues, limit, workerID, leaseSeconds], name: SQL.Engine.claimSteps.name
        ).rows
        return try claimedSteps(from: rows, workerID: workerID, on: connection)
    }

    /// The claim's rows as steps ready to run, with their definitions and the outputs they may read. A row whose
    /// stored data cannot be read (a workflow's input, its definition, an output, edited or damaged by hand) is
    /// handed back on its own, put off for a while, and named in the log: the claim is already committed, and
    /// failing the whole batch for it would leave every other claimed step to run out its lease and lose an attempt.
    private func claimedSteps(from rows: [PostgresRow], workerID: String, on connection: PostgresConnection) throws -> [ClaimedStep] {
        guard !rows.isEmpty else { return [] }
        let workflowIDs = try Array(Set(rows.map { try $0.decode("workflow_id", as: UUID.self) }))
        let (definitionsByID, badDefinitions) = try loadDefinitionsReadable(ids: try rows.map { try $0.decode("definition_id", as: Int64.self) }, on: connection)
        let (outputs, badOutputs) = try stepOutputs(of: workflowIDs, on: connection)
        var claimed: [ClaimedStep] = []
        var unreadable: [(workflowID: UUID, stepID: String, fencingToken: Int64, resumedWait: Bool, problem: String)] = []
        for row in rows {
            let workflowID: UUID = try row.decode("workflow_id")
            let definitionID: Int64 = try row.decode("definition_id")
            do {
                if let problem = badDefinitions[definitionID] { throw StoreError.corruptRow("its definition (\(definitionID)) cannot be read: \(problem)") }
                if let problem = badOutputs[workflowID] { throw StoreError.corruptRow(problem) }
                guard let definition = definitionsByID[definitionID] else {
                    throw StoreError.corruptRow("workflow \(workflowID) refers to missing definition \(definitionID)")
                }
                guard let phase = StepPhase(rawValue: try row.decode("phase")) else {
                    throw StoreError.corruptRow("unknown step phase")
                }
                // A workflow that ended for good runs nothing more: a step made ready by hand in one would reach the
                // cloud after the operator stopped it (a cancel --force). A failed workflow may still finish a
                // branch's retry or durable wait, and a compensation_failed one is resumed by re-arming its steps.
                let workflowState: String = try row.decode("workflow_state")
                if [WorkflowState.succeeded, .compensated, .cancelled].map(\.rawValue).contains(workflowState) {
                    throw StoreError.corruptRow("the step is ready but its workflow has ended (\(workflowState)); it is not run (a step row edited by hand?)")
                }
                let input = try Self.storedInput(row, definition: definition)
                let stepID: String = try row.decode("step_id")
                let counters = try Self.counters(row, workflowID: workflowID, stepID: stepID)
                claimed.append(ClaimedStep(
                    workflowID: workflowID, stepID: stepID, phase: phase, action: try row.decode("action"),
                    attempt: counters.attempt, attemptBase: counters.attemptBase,
                    fencingToken: counters.fencingToken, idempotencyKey: try row.decode("idempotency_key"),
                    checkpoint: try Self.json(row, "checkpoint"), leaseExpiresAt: try row.decode("lease_expires_at"),
                    isResumedWait: try row.decode("previous_state", as: String.self) == "waiting",
                    definition: definition, input: input, outputs: outputs[workflowID] ?? [:]))
            } catch where Self.isUnreadableRow(error) {
                guard let stepID = try? row.decode("step_id", as: String.self),
                      let token = try? row.decode("fencing_token", as: Int64.self) else { throw error }
                unreadable.append((workflowID, stepID, token, (try? row.decode("previous_state", as: String.self)) == "waiting",
                                   Self.rowProblem(error)))
            }
        }
        if !unreadable.isEmpty {
            for step in unreadable {
                logger.error("a claimed step cannot be run as stored; handing it back and trying again in 5 minutes (mend the row the error names)", metadata: [
                    "workflow.id": "\(step.workflowID.uuidString.lowercased())", "step.id": "\(step.stepID)", "error": "\(step.problem)",
                ])
            }
            try connection.transaction { connection in
                try self.releaseLeases(unreadable.map { ($0.workflowID, $0.stepID, $0.fencingToken, $0.resumedWait) },
                                       reasons: unreadable.map { "not run as stored: \($0.problem)" }, workerID: workerID,
                                       delay: Self.unreadableRetrySeconds, on: connection)
            }
        }
        return claimed
    }

    /// The outputs of the steps of these workflows that have one: what a claimed step may read.
    /// Also returns, by workflow, why an output could not be read.
    private func stepOutputs(of workflowIDs: [UUID], on connection: PostgresConnection) throws -> ([UUID: [String: JSONValue]], [UUID: String]) {
        var outputs: [UUID: [String: JSONValue]] = [:]
        var unreadable: [UUID: String] = [:]
        for row in try connection.query(SQL.Engine.stepOutputs.text, [workflowIDs], name: SQL.Engine.stepOutputs.name).rows {
            let workflowID: UUID = try row.decode("workflow_id"), stepID: String = try row.decode("step_id")
            do {
                outputs[workflowID, default: [:]][stepID] = try Self.json(row, "output")
            } catch where Self.isUnreadableRow(error) {
                unreadable[workflowID] = "the output of step \(stepID) cannot be read: \(Self.rowProblem(error))"
            }
        }
        return (outputs, unreadable)
    }

    /// The earliest due time of claimable work on these queues, if any.
    public func nextDueTime(queues: [String]) throws -> Date? {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.nextDueTime.text, [queues], name: SQL.Engine.nextDueTime.name)
                .first?.decode("due", as: Date?.self)
        }
    }

    /// The definition a workflow runs (the copy stored at submission).
    public func definition(id: Int64) throws -> WorkflowDefinition {
        try pool.withConnection { connection in
            guard let definition = try loadDefinitions(ids: [id], on: connection)[id] else {
                throw StoreError.corruptRow("definition \(id) is missing")
            }
            return definition
        }
    }

    /// Like ``loadDefinitions(ids:on:)``, but a definition that cannot be decoded is returned as a problem instead
    /// of failing the others.
    private func loadDefinitionsReadable(ids: [Int64], on connection: PostgresConnection) throws -> ([Int64: WorkflowDefinition], [Int64: String]) {
        do {
            return (try loadDefinitions(ids: ids, on: connection), [:])
        } catch where Self.isUnreadableRow(error) {
            var found: [Int64: WorkflowDefinition] = [:], problems: [Int64: String] = [:]
            for id in Set(ids) {
                do {
                    found.merge(try loadDefinitions(ids: [id], on: connection)) { $1 }
                } catch where Self.isUnreadableRow(error) {
                    problems[id] = "\(error)"
                }
            }
            return (found, problems)
        }
    }

    private func loadDefinitions(ids: [Int64], on connection: PostgresConnection) throws -> [Int64: WorkflowDefinition] {
        let wanted = Set(ids)
        var found = definitions.withLock { cache in cache.filter { wanted.contains($0.key) } }
        let missing = wanted.subtracting(found.keys)
        if !missing.isEmpty {
            for row in try connection.query(SQL.Engine.definitionsByID.text, [Array(missing)], name: SQL.Engine.definitionsByID.name).rows {
                let id: Int64 = try row.decode("id")
                let definition = try row.decodeJSON("compiled", as: WorkflowDefinition.self)
                found[id] = definition
            }
            let loaded = found
            definitions.withLock { cache in cache.merge(loaded) { $1 } }
        }
        return found
    }

    // MARK: - Results and leases

    /// Records attempt results (from one worker) in one transaction. A result whose fencing token is no
    /// longer current is refused and recorded as `stale_write_rejected`.
    public func record(_ results: [AttemptResult], workerID: String) throws -> [ResultDisposition] {
        guard !results.isEmpty else { return [] }
        let changes = results.map { Self.change(for: $0, workerID: workerID) }
        return try pool.transaction { connection in
            try self.apply(changes, on: connection).map { $0 == .stale ? .staleLease : .applied }
        }
    }

    private static func change(for result: AttemptResult, workerID: String) -> Change {
        let event: SagaStateMachine.Event
        var write = StepWrite()
        switch result.outcome {
        case .succeeded(let output):
            event = .attemptSucceeded(step: result.stepID)
            write.output = output
        case .failed(let failure):
            event = .attemptFailed(step: result.stepID, failure: failure)
            write.error = .object([
                "code": failure.code.map { .string($0) } ?? .null, "message": .string(failure.message),
                "retryable": .bool(failure.retryable),
            ])
        case .waiting(let until, let checkpoint):
            event = .attemptWaiting(step: result.stepID, until: until)
            write.checkpoint = checkpoint
        }
        return Change(
            workflowID: result.workflowID, event: event, fence: (result.stepID, result.fencingToken),
            write: write, workerID: workerID)
    }

    /// Extends the leases of attempts this worker still runs; returns those whose lease was lost.
    public func extendLeases(_ attempts: [(workflowID: UUID, stepID: String, fencingToken: Int64)], leaseSeconds: Double) throws -> [(UUID, String)] {
        guard !attempts.isEmpty else { return [] }
        let kept = try pool.transaction { connection in
            try connection.query(SQL.Engine.extendLeases.text, [
                attempts.map(\.workflowID), attempts.map(\.stepID), attempts.map(\.fencingToken), leaseSeconds,
            ], name: SQL.Engine.extendLeases.name).rows.map { row in
                "\(try row.decode("workflow_id", as: UUID.self))/\(try row.decode("step_id", as: String.self))"
            }
        }
        let keptSet = Set(kept)
        return attempts.filter { !keptSet.contains("\($0.workflowID)/\($0.stepID)") }.map { ($0.workflowID, $0.stepID) }
    }

    /// Saves a checkpoint mid-step (fenced) and, when `irreversible`, marks the pivot crossed.
    /// Returns false when the lease was lost (the checkpoint was not saved).
    public func saveCheckpoint(
        workflowID: UUID, stepID: String, fencingToken: Int64, checkpoint: JSONValue, irreversible: Bool,
        leaseSeconds: Double, workerID: String
    ) throws -> Bool {
        try pool.transaction { connection in
            if irreversible {
                let change = Change(
                    workflowID: workflowID, event: .irreversibleCheckpoint(step: stepID), fence: (stepID, fencingToken),
                    write: StepWrite(checkpoint: checkpoint), workerID: workerID, eventKind: "checkpoint")
                return try self.apply([change], on: connection).first != .stale
            }
            guard let row = try connection.query(SQL.Engine.saveCheckpoint.text, [
                workflowID, stepID, PostgresRawJSON(checkpoint.canonicalJSON), fencingToken, leaseSeconds,
            ], name: SQL.Engine.saveCheckpoint.name).first else { return false }
            try self.insertEvents([EventRow(
                workflowID: workflowID, stepID: stepID, phase: try row.decode("phase"), attempt: try row.decode("attempt"),
                fencingToken: fencingToken, kind: "checkpoint", workerID: workerID, details: checkpoint)], on: connection)
            return true
        }
    }

    /// Whether the workflow stopped going forward since its steps were claimed: an operator cancelled it, or a
    /// failure started its compensation. A missing workflow (pruned) counts as stopping.
    public func workflowIsStopping(_ workflowID: UUID) throws -> Bool {
        try pool.withConnection { connection in
            guard let row = try connection.query(SQL.Engine.workflowIsStopping.text, [workflowID], name: SQL.Engine.workflowIsStopping.name).first else {
                return true
            }
            return try row.decode("stopping", as: Bool.self)
        }
    }

    /// Returns the leases of attempts a draining worker did not finish (compensations, resumed durable waits),
    /// without counting those attempts.
    /// Hands attempts back without counting them, due again after `delay` (seconds); `reason` goes into the
    /// `lease_released` events.
    public func releaseLeases(
        _ attempts: [(workflowID: UUID, stepID: String, fencingToken: Int64, resumedWait: Bool)], workerID: String,
        delay: Double = 0
    ) throws {
        guard !attempts.isEmpty else { return }
        try pool.transaction { connection in
            try self.releaseLeases(attempts, reasons: attempts.map { _ in nil }, workerID: workerID, delay: delay, on: connection)
        }
    }

    /// `reasons`: why each attempt is handed back (nil for a shutdown's), for its `lease_released` event.
    private func releaseLeases(
        _ attempts: [(workflowID: UUID, stepID: String, fencingToken: Int64, resumedWait: Bool)], reasons: [String?], workerID: String,
        delay: Double, on connection: PostgresConnection
    ) throws {
        let released = try connection.query(SQL.Engine.releaseLeases.text, [
            attempts.map(\.workflowID), attempts.map(\.stepID), attempts.map(\.fencingToken), workerID,
            attempts.map(\.resumedWait), delay, reasons,
        ], name: SQL.Engine.releaseLeases.name)
        // Other workers may take a step handed back now; one put off comes due without an announcement.
        if !released.isEmpty && delay == 0 {
            try connection.query(SQL.Engine.notifyReady.text, ["default"], name: SQL.Engine.notifyReady.name)
        }
    }

    /// Returns steps whose lease expired (their worker died) to the state machine as lost attempts.
    /// Safe to run from every worker at once. Returns how many steps were rescued.
    @discardableResult
    public func rescueExpiredLeases(limit: Int = 100) throws -> Int {
        let candidates = try pool.withConnection { connection in
            try Set(connection.query(SQL.Engine.expiredLeases.text, [limit], name: SQL.Engine.expiredLeases.name)
                .rows.map { try $0.decode("workflow_id", as: UUID.self) })
        }
        guard !candidates.isEmpty else { return 0 }
        let rescue = { (ids: [UUID]) throws -> Int in
            let (outcomes, ids) = try self.pool.transaction { connection -> ([ChangeOutcome], [UUID]) in
                let available = try connection.query(
                    SQL.Engine.lockWorkflowsAvailable.text, [ids], name: SQL.Engine.lockWorkflowsAvailable.name
                ).rows.map { try $0.decode("id", as: UUID.self) }
                // A workflow whose row is gone is not locked either: keep it, so that it is found missing below.
                let existing = Set(try connection.query(SQL.Engine.workflowStates.text, [ids], name: SQL.Engine.workflowStates.name)
                    .rows.map { try $0.decode("id", as: UUID.self) })
                let taken = ids.filter { available.contains($0) || !existing.contains($0) }
                return (try self.apply(taken.map { Change(workflowID: $0, event: nil, rescue: true) }, on: connection), taken)
            }
            // Steps whose workflow row is gone (deleted by hand; the engine deletes both together) would be found
            // again on every pass, ahead of real ones: put them off for a day and say how to remove them.
            for (id, outcome) in zip(ids, outcomes) where outcome == .missing {
                self.logger.error("steps remain of a workflow whose row is gone; remove them: DELETE FROM steps WHERE workflow_id = '\(id.uuidString.lowercased())'", metadata: [
                    "workflow.id": "\(id.uuidString.lowercased())",
                ])
                try self.pool.withConnection { connection in
                    _ = try connection.query(SQL.Engine.deferRescue.text, [id, 86_400.0], name: SQL.Engine.deferRescue.name)
                }
            }
            return outcomes.filter { $0 == .applied }.count
        }
        return try settingAsideUnreadable(candidates.sorted { $0.uuidString < $1.uuidString },
                                          what: "cannot rescue this workflow's expired leases", putOff: SQL.Engine.deferRescue, rescue)
    }

    /// Runs `work` on all of `ids` at once; when a row among them cannot be read (edited or damaged by hand), on each
    /// alone, so that the unreadable one does not hold up the others: it is named in the log and put off for a while
    /// (`putOff` takes its id and the seconds). Returns what `work` counted.
    private func settingAsideUnreadable(
        _ ids: [UUID], what: String, putOff: Statement, _ work: ([UUID]) throws -> Int
    ) throws -> Int {
        do {
            return try work(ids)
        } catch where Self.isUnreadableRow(error) {
            var done = 0
            for id in ids {
                do {
                    done += try work([id])
                } catch let problem where Self.isUnreadableRow(problem) {
                    logger.error("\(what): its stored rows cannot be read; trying again in 5 minutes", metadata: [
                        "workflow.id": "\(id.uuidString.lowercased())", "error": "\(problem)",
                    ])
                    try pool.withConnection { connection in
                        _ = try connection.query(putOff.text, [id, Self.unreadableRetrySeconds], name: putOff.name)
                    }
                }
            }
            return done
        }
    }

    /// What is wrong with a row, without the generic preamble of ``StoreError/corruptRow(_:)``'s description (the
    /// messages that quote it say what kind of problem it is themselves).
    static func rowProblem(_ error: any Error) -> String {
        if case StoreError.corruptRow(let detail) = error { return detail }
        return "\(error)"
    }

    /// How long a step whose stored rows cannot be read is put off before a worker looks at it again.
    static let unreadableRetrySeconds = 300.0

    /// Whether `error` says a row holds what this version cannot read (edited or damaged by hand), as opposed to the
    /// database being unreachable or refusing a statement.
    static func isUnreadableRow(_ error: any Error) -> Bool {
        switch error {
        case StoreError.corruptRow: return true
        // 23514: a write of the workflow's rows broke a CHECK constraint (migration 0007's bounds); 22003: it carried
        // a counter past its type's range (a `completed_seq` edited to the integer maximum): that row too.
        case let error as PostgresError: return error.code == .decoding || error.sqlState == "23514" || error.sqlState == "22003"
        default: return false
        }
    }

    /// Starts scheduled workflows whose time has come.
    @discardableResult
    public func startDueScheduledWorkflows(limit: Int = 100) throws -> Int {
        let due = try pool.withConnection { connection in
            try connection.query(SQL.Engine.dueScheduledWorkflows.text, [limit], name: SQL.Engine.dueScheduledWorkflows.name)
                .rows.map { try $0.decode("id", as: UUID.self) }
        }
        guard !due.isEmpty else { return 0 }
        let start = { (ids: [UUID]) throws -> Int in
            try self.pool.transaction { connection in
                try self.apply(ids.map { Change(workflowID: $0, event: .start) }, on: connection).count
            }
        }
        // One workflow whose rows cannot be read must not keep every other one from starting.
        return try settingAsideUnreadable(due, what: "cannot start this scheduled workflow", putOff: SQL.Engine.deferScheduledStart, start)
    }

    // MARK: - Operator actions

    /// Resume, cancel or skip, recorded with who and why. Refusals throw ``StoreError/refused(_:)``.
    public func perform(_ action: OperatorAction, on workflowID: UUID) throws {
        let event: SagaStateMachine.Event
        let kind: String
        switch action.kind {
        case .resume(let fromStep):
            event = .resume(fromStep: fromStep)
            kind = "resume_requested"
        case .cancel(let force):
            event = .cancel(force: force)
            kind = "cancel_requested"
        case .skip(let step):
            event = .skip(step: step)
            kind = "skip_requested"
        }
        try pool.transaction { connection in
            let outcome = try self.apply([Change(
                workflowID: workflowID, event: event, actor: action.actor, reason: action.reason, eventKind: kind)],
                on: connection)
            if case .refused(let refusal) = outcome.first {
                throw refusal.isUnknownStep ? StoreError.stepNotFound(refusal.description) : StoreError.refused(refusal.description)
            }
            if outcome.first == .missing { throw StoreError.workflowNotFound(workflowID.uuidString.lowercased()) }
        }
    }

    // MARK: - Workers

    /// `heartbeatSeconds`: how often the worker heartbeats at the longest, from which `workers()` judges it
    /// unresponsive after three missed heartbeats.
    public func registerWorker(
        id: String, hostname: String, pid: Int32, concurrency: Int, queues: [String], version: String, heartbeatSeconds: Double
    ) throws {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.registerWorker.text, [id, hostname, Int(pid), concurrency, queues, version, heartbeatSeconds],
                                 name: SQL.Engine.registerWorker.name)
        }
    }

    /// After this long without a heartbeat a worker counts as gone: `unwind workers` shows it `unresponsive`, and
    /// its worker ID may be taken over.
    public static let silentWorkerSeconds = 120.0

    /// Who holds a worker ID: its host and pid, whether it is running (or draining), seconds since its last
    /// heartbeat and whether that is long enough to count as gone; nil when no worker ever used it.
    public func workerHolder(id: String) throws -> (hostname: String, pid: Int32, active: Bool, silentSeconds: Double, silent: Bool)? {
        try pool.withConnection { connection in
            guard let row = try connection.query(
                SQL.Engine.workerByID.text, [id, Self.silentWorkerSeconds], name: SQL.Engine.workerByID.name
            ).first else { return nil }
            let state: String = try row.decode("state")
            return (try row.decode("hostname"), Int32(try row.decode("pid", as: Int.self)), state != "stopped",
                    try row.decode("silent_seconds"), try row.decode("silent"))
        }
    }

    /// Returns false when the worker's row no longer describes this process (`hostname`, `pid`): its ID was taken
    /// over by another process while this one was silent.
    @discardableResult
    public func workerHeartbeat(id: String, draining: Bool, hostname: String, pid: Int32) throws -> Bool {
        try pool.withConnection { connection in
            !(try connection.query(SQL.Engine.workerHeartbeat.text, [id, draining ? "draining" : "running", Int(pid), hostname],
                                   name: SQL.Engine.workerHeartbeat.name).isEmpty)
        }
    }

    public func workerStopped(id: String, hostname: String, pid: Int32) throws {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.workerStopped.text, [id, Int(pid), hostname], name: SQL.Engine.workerStopped.name)
        }
    }

    // MARK: - Pruning

    /// Deletes workflows that finished before `cutoff`, with their steps and events, in batches.
    /// Returns how many workflows were deleted.
    @discardableResult
    /// How many workflows ``prune(finishedBefore:batchSize:)`` would delete now.
    public func countPrunable(finishedBefore cutoff: Date) throws -> Int {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.countFinishedBefore.text, [cutoff], name: SQL.Engine.countFinishedBefore.name)
                .first?.decode("n", as: Int.self) ?? 0
        }
    }

    public func prune(finishedBefore cutoff: Date, batchSize: Int = 1000) throws -> Int {
        var total = 0
        while true {
            let deleted = try pool.transaction { connection -> Int in
                let ids = try connection.query(SQL.Engine.finishedBefore.text, [cutoff, batchSize], name: SQL.Engine.finishedBefore.name)
                    .rows.map { try $0.decode("id", as: UUID.self) }
                guard !ids.isEmpty else { return 0 }
                // A workflow's rows in all three tables, in one round trip with the COMMIT.
                _ = try connection.commit(after: [
                    PostgresStatement(SQL.Engine.deleteEventsOf.text, [ids], name: SQL.Engine.deleteEventsOf.name),
                    PostgresStatement(SQL.Engine.deleteStepsOf.text, [ids], name: SQL.Engine.deleteStepsOf.name),
                    PostgresStatement(SQL.Engine.deleteWorkflows.text, [ids], name: SQL.Engine.deleteWorkflows.name),
                ])
                return ids.count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    // MARK: - The transition engine

    struct StepWrite {
        var output: JSONValue?
        var error: JSONValue?
        var checkpoint: JSONValue?
    }

    struct Change {
        var workflowID: UUID
        /// nil with `rescue`: every running step of the workflow whose lease expired.
        var event: SagaStateMachine.Event?
        var fence: (stepID: String, token: Int64)?
        var write = StepWrite()
        var workerID: String?
        var actor: String?
        var reason: String?
        /// An extra event recorded before the transition's own (e.g. `resume_requested`).
        var eventKind: String?
        var rescue = false

        init(
            workflowID: UUID, event: SagaStateMachine.Event?, fence: (stepID: String, token: Int64)? = nil,
            write: StepWrite = StepWrite(), workerID: String? = nil, actor: String? = nil, reason: String? = nil,
            eventKind: String? = nil, rescue: Bool = false
        ) {
            self.workflowID = workflowID
            self.event = event
            self.fence = fence
            self.write = write
            self.workerID = workerID
            self.actor = actor
            self.reason = reason
            self.eventKind = eventKind
            self.rescue = rescue
        }
    }

    enum ChangeOutcome: Equatable {
        case applied
        case stale
        case refused(SagaStateMachine.Refusal)
        case missing
    }

    struct EventRow {
        var workflowID: UUID
        var stepID: String?
        var phase: String?
        var attempt: Int?
        var fencingToken: Int64?
        var kind: String
        var workerID: String?
        var actor: String?
        var reason: String?
        var details: JSONValue?
    }

    private struct LoadedWorkflow {
        var definition: WorkflowDefinition
        var snapshot: SagaSnapshot
        var original: SagaSnapshot
        var output: JSONValue?
        var queue: String
        /// Index of the workflow's row in the lock result (its input is decoded only if a step starts eagerly).
        var row: Int

        /// Whether step `id` became ready in this transaction and is due: what a worker may start at once, and what
        /// wakes the other workers when it does not.
        func becameReady(_ id: String, at now: Date) -> Bool {
            guard let step = snapshot.steps[id] else { return false }
            return step.state == .ready && step.dueAt <= now && original.steps[id]?.state != .ready
        }
    }

    /// A worker finishing steps starts their successors itself, in the transaction that makes them ready:
    /// one write of the step row (blocked → running) instead of three statements' worth (made ready, found by
    /// the claim, claimed). It still starts only after the predecessor's completion, in the same commit.
    struct EagerStart {
        /// The worker's free slots.
        var limit: Int
        var queues: Set<String>
        var workerID: String
        var leaseSeconds: Double
    }

    /// Applies changes in the caller's transaction: lock, read snapshots, run the state machine, write the
    /// changed steps, the workflows and the events, and notify idle workers when a step became ready.
    func apply(_ changes: [Change], on connection: PostgresConnection) throws -> [ChangeOutcome] {
        var madeReady = false
        return try apply(changes, on: connection, notify: true, madeReady: &madeReady)
    }

    /// `notify: false` leaves the wake-up to the caller, who learns through `madeReady` whether a step became ready.
    func apply(_ changes: [Change], on connection: PostgresConnection, notify: Bool, madeReady: inout Bool) throws -> [ChangeOutcome] {
        var started: [ClaimedStep] = []
        return try apply(changes, on: connection, notify: notify, madeReady: &madeReady, eager: nil, started: &started)
    }

    /// With `eager`, steps made ready here are started at once for that worker (up to its free slots, on its
    /// queues) and returned in `started`, ready to run.
    func apply(
        _ changes: [Change], on connection: PostgresConnection, notify: Bool, madeReady: inout Bool,
        eager: EagerStart?, started: inout [ClaimedStep]
    ) throws -> [ChangeOutcome] {
        let ids = Array(Set(changes.map(\.workflowID)))
        // Workflow rows, then their step rows (the lock order), in one round trip.
        let locked = try connection.pipeline([
            PostgresStatement(SQL.Engine.lockWorkflows.text, [ids], name: SQL.Engine.lockWorkflows.name),
            PostgresStatement(SQL.Engine.lockSteps.text, [ids], name: SQL.Engine.lockSteps.name),
        ])
        let workflowRows = locked[0].rows, stepRows = locked[1].rows
        guard let now = try workflowRows.first?.decode("db_now", as: Date.self) else {
            return changes.map { _ in .missing }
        }
        let definitionsByID = try loadDefinitions(ids: try workflowRows.map { try $0.decode("definition_id", as: Int64.self) }, on: connection)

        var stepsByWorkflow: [UUID: [String: StepSnapshot]] = [:]
        var expiredLeases: [UUID: [String]] = [:]
        var stepRowIndex: [UUID: [String: Int]] = [:]
        for (index, row) in stepRows.enumerated() {
            let workflowID: UUID = try row.decode("workflow_id")
            let stepID: String = try row.decode("step_id")
            stepRowIndex[workflowID, default: [:]][stepID] = index
            guard let state = StepState(rawValue: try row.decode("state")),
                  let phase = StepPhase(rawValue: try row.decode("phase")) else {
                throw StoreError.corruptRow("step \(stepID) of workflow \(workflowID) has an unknown state")
            }
            let counters = try Self.counters(row, workflowID: workflowID, stepID: stepID)
            stepsByWorkflow[workflowID, default: [:]][stepID] = StepSnapshot(
                state: state, phase: phase, attempt: counters.attempt, attemptBase: counters.attemptBase,
                predecessorsPending: try row.decode("predecessors_pending"), dueAt: try row.decode("due_at"),
                completedSeq: try row.decode("completed_seq", as: Int?.self), fencingToken: counters.fencingToken)
            if state == .running, try row.decode("lease_expired", as: Bool?.self) == true {
                expiredLeases[workflowID, default: []].append(stepID)
            }
        }
        var workflows: [UUID: LoadedWorkflow] = [:]
        for (index, row) in workflowRows.enumerated() {
            let id: UUID = try row.decode("id")
            let definitionID: Int64 = try row.decode("definition_id")
            guard let definition = definitionsByID[definitionID],
                  let state = WorkflowState(rawValue: try row.decode("state")) else {
                throw StoreError.corruptRow("workflow \(id) has an unknown state or definition")
            }
            // Every step of the definition has its row (all are inserted at submission): one deleted by hand would
            // let the workflow finish without it, or wait for it for ever.
            let missing = definition.steps.map(\.id).filter { stepsByWorkflow[id]?[$0] == nil }
            guard missing.isEmpty else {
                throw StoreError.corruptRow("workflow \(id.uuidString.lowercased()) has no row for step(s) \(missing.joined(separator: ", ")) of its definition (deleted by hand?); restore them, or remove the workflow's rows (events, steps, workflows) by hand")
            }
            let snapshot = SagaSnapshot(
                state: state, pivotCrossed: try row.decode("pivot_crossed"), cancelRequested: try row.decode("cancel_requested"),
                steps: stepsByWorkflow[id] ?? [:], error: try Self.json(row, "error"))
            workflows[id] = LoadedWorkflow(
                definition: definition, snapshot: snapshot, original: snapshot, queue: try row.decode("queue"), row: index)
        }
        try loadParkedPivotOutcomes(into: &workflows, on: connection)

        var outcomes: [ChangeOutcome] = []
        var events: [EventRow] = []
        var stepWrites: [UUID: [String: StepWrite]] = [:]
        for change in changes {
            guard var workflow = workflows[change.workflowID] else {
                outcomes.append(.missing)
                continue
            }
            let machine = SagaStateMachine(definition: workflow.definition)
            var stepEvents: [SagaStateMachine.Event] = []
            if change.rescue {
                stepEvents = (expiredLeases[change.workflowID] ?? []).map { .leaseExpired(step: $0) }
                if stepEvents.isEmpty {
                    outcomes.append(.stale)
                    continue
                }
            } else if let event = change.event {
                stepEvents = [event]
            }
            if let fence = change.fence {
                let current = workflow.snapshot.steps[fence.stepID]
                guard let current, current.state == .running, current.fencingToken == fence.token else {
                    events.append(EventRow(
                        workflowID: change.workflowID, stepID: fence.stepID, phase: current?.phase.rawValue,
                        attempt: current?.attempt, fencingToken: fence.token, kind: "stale_write_rejected",
                        workerID: change.workerID,
                        details: ["current_token": .number(Double(current?.fencingToken ?? 0)),
                                  "current_state": .string(current?.state.rawValue ?? "missing")]))
                    outcomes.append(.stale)
                    continue
                }
            }
            if let kind = change.eventKind {
                // The attempt it belongs to, as every other checkpoint records it (the pivot's irreversible one too).
                let fenced = change.fence.flatMap { workflow.snapshot.steps[$0.stepID] }
                events.append(EventRow(
                    workflowID: change.workflowID, stepID: change.fence?.stepID, phase: fenced?.phase.rawValue, attempt: fenced?.attempt,
                    fencingToken: change.fence?.token, kind: kind, workerID: change.workerID,
                    actor: change.actor, reason: change.reason,
                    details: kind == "checkpoint" ? change.write.checkpoint : nil))
            }
            var refused: SagaStateMachine.Refusal?
            for event in stepEvents {
                do {
                    let outcome = try machine.apply(event, to: workflow.snapshot, now: now)
                    workflow.snapshot = outcome.snapshot
                    for record in outcome.events {
                        events.append(EventRow(
                            workflowID: change.workflowID, stepID: record.stepID, phase: record.phase?.rawValue,
                            attempt: record.attempt, fencingToken: record.stepID.flatMap { workflow.snapshot.steps[$0]?.fencingToken },
                            kind: record.kind, workerID: change.workerID, actor: change.actor, reason: change.reason,
                            details: record.details))
                    }
                } catch {
                    refused = error
                }
            }
            if let refused {
                outcomes.append(.refused(refused))
                continue
            }
            if let stepID = change.fence?.stepID {
                stepWrites[change.workflowID, default: [:]][stepID] = change.write
                if workflow.snapshot.state == .succeeded, workflow.original.state != .succeeded,
                   let output = change.write.output {
                    workflow.output = output
                }
            }
            workflows[change.workflowID] = workflow
            outcomes.append(.applied)
        }

        var eagerSteps: [(workflowID: UUID, stepID: String)] = []
        // What a started step reads, once per workflow: its input and the outputs locked above. A workflow whose
        // stored input or outputs cannot be read (edited or damaged by hand) starts nothing here: its steps stay
        // ready for the claim, which hands such a step back, put off and named, without failing this batch.
        var inputs: [UUID: [String: JSONValue]] = [:]
        var outputs: [UUID: [String: JSONValue]] = [:]
        var checkpoints: [UUID: [String: JSONValue?]] = [:]
        var unreadable: Set<UUID> = []
        if let eager, eager.limit > 0 {
            for (change, outcome) in zip(changes, outcomes) where outcome == .applied && inputs[change.workflowID] == nil
                && !unreadable.contains(change.workflowID) {
                guard let workflow = workflows[change.workflowID], eager.queues.contains(workflow.queue) else { continue }
                let candidates = workflow.snapshot.steps.keys.filter { workflow.becameReady($0, at: now) }
                guard !candidates.isEmpty else { continue }
                do {
                    inputs[change.workflowID] = try Self.storedInput(workflowRows[workflow.row], definition: workflow.definition)
                    var known: [String: JSONValue] = [:]
                    for (stepID, index) in stepRowIndex[change.workflowID] ?? [:] {
                        if let output = try Self.json(stepRows[index], "output") { known[stepID] = output }
                    }
                    outputs[change.workflowID] = known
                    // And the checkpoints the steps to start would resume from (a compensation's is its forward one).
                    for stepID in candidates {
                        if let index = stepRowIndex[change.workflowID]?[stepID] {
                            checkpoints[change.workflowID, default: [:]][stepID] = try Self.json(stepRows[index], "checkpoint")
                        }
                    }
                } catch where Self.isUnreadableRow(error) {
                    inputs[change.workflowID] = nil
                    unreadable.insert(change.workflowID)
                }
            }
            eagerSteps = Self.startSuccessors(of: changes, in: &workflows, outcomes: outcomes, eager: eager, now: now,
                                              excluding: unreadable)
            for (workflowID, stepID) in eagerSteps {
                let step = workflows[workflowID]!.snapshot.steps[stepID]!
                events.append(EventRow(
                    workflowID: workflowID, stepID: stepID, phase: step.phase.rawValue, attempt: step.attempt,
                    fencingToken: step.fencingToken, kind: "attempt_started", workerID: eager.workerID))
            }
        }
        try writeBack(workflows: workflows, stepWrites: stepWrites, events: events, eager: eager, started: eagerSteps,
                      on: connection)
        if let eager, !eagerSteps.isEmpty {
            // The outputs locked above, together with the ones this batch just recorded.
            for workflowID in Set(eagerSteps.map(\.workflowID)) {
                for (stepID, write) in stepWrites[workflowID] ?? [:] {
                    if let output = write.output { outputs[workflowID, default: [:]][stepID] = output }
                }
            }
            let leaseExpiresAt = now.addingTimeInterval(eager.leaseSeconds)  // now() is the transaction's start, as db_now
            started = try eagerSteps.map { workflowID, stepID in
                let workflow = workflows[workflowID]!
                let step = workflow.snapshot.steps[stepID]!
                guard let index = stepRowIndex[workflowID]?[stepID] else {
                    throw StoreError.corruptRow("step \(stepID) of workflow \(workflowID) was not locked")
                }
                guard let input = inputs[workflowID], let checkpoint = checkpoints[workflowID]?[stepID] else {
                    throw StoreError.corruptRow("step \(stepID) of workflow \(workflowID) was started without what it reads")
                }
                let row = stepRows[index]
                return ClaimedStep(
                    workflowID: workflowID, stepID: stepID, phase: step.phase, action: try row.decode("action"),
                    attempt: step.attempt, attemptBase: step.attemptBase, fencingToken: step.fencingToken,
                    idempotencyKey: try row.decode("idempotency_key"), checkpoint: checkpoint,
                    leaseExpiresAt: leaseExpiresAt, isResumedWait: false, definition: workflow.definition,
                    input: input, outputs: outputs[workflowID] ?? [:])
            }
        }
        let readyNow = workflows.values.contains { workflow in workflow.snapshot.steps.keys.contains { workflow.becameReady($0, at: now) } }
        madeReady = readyNow
        if readyNow && notify {
            try connection.enqueue(PostgresStatement(SQL.Engine.notifyReady.text, ["default"], name: SQL.Engine.notifyReady.name))
        }
        return outcomes
    }

    /// For each pivot parked for a retry or running again (rare: only after a failed attempt) and not crossed, whether any of its
    /// attempts ended without an outcome: a compensation (or a forced cancel) beginning now must count such a pivot
    /// as crossed (see ``StepSnapshot/lastAttemptOutcomeUnknown``).
    private func loadParkedPivotOutcomes(into workflows: inout [UUID: LoadedWorkflow], on connection: PostgresConnection) throws {
        let parked = workflows.compactMap { id, workflow -> (UUID, String)? in
            guard !workflow.snapshot.pivotCrossed, let pivot = workflow.definition.pivotStepID, let step = workflow.snapshot.steps[pivot],
                  step.phase == .forward,
                  // Ready after an attempt, or running an attempt after an earlier one: only then can an earlier
                  // attempt have ended without an outcome (a pivot's first attempt costs no query).
                  (step.state == .ready && step.attempt >= 1) || (step.state == .running && step.attempt >= 2) else { return nil }
            return (id, pivot)
        }
        guard !parked.isEmpty else { return }
        let rows = try connection.query(
            SQL.Engine.attemptsWithoutOutcome.text, [parked.map(\.0), parked.map(\.1), SagaStateMachine.outcomeUnknownCodes.sorted()],
            name: SQL.Engine.attemptsWithoutOutcome.name)
        for row in rows.rows {
            let id: UUID = try row.decode("workflow_id"), stepID: String = try row.decode("step_id")
            workflows[id]?.snapshot.steps[stepID]?.lastAttemptOutcomeUnknown = true
            workflows[id]?.original.steps[stepID]?.lastAttemptOutcomeUnknown = true
        }
    }

    private func writeBack(
        workflows: [UUID: LoadedWorkflow], stepWrites: [UUID: [String: StepWrite]], events: [EventRow],
        eager: EagerStart?, started: [(workflowID: UUID, stepID: String)], on connection: PostgresConnection
    ) throws {
        var startedSteps: [UUID: Set<String>] = [:]
        for (workflowID, stepID) in started { startedSteps[workflowID, default: []].insert(stepID) }
        var workflowIDs: [UUID] = [], stepIDs: [String] = [], states: [String] = [], phases: [String] = []
        var attempts: [Int] = [], bases: [Int] = [], pending: [Int] = [], due: [Date] = [], seqs: [Int?] = []
        var tokens: [Int64] = [], startedFlags: [Bool] = []
        var outputs: [String?] = [], errors: [String?] = [], checkpoints: [String?] = []
        var changedWorkflows: [(UUID, LoadedWorkflow)] = []
        for (id, workflow) in workflows {
            let writes = stepWrites[id] ?? [:]
            for (stepID, step) in workflow.snapshot.steps where step != workflow.original.steps[stepID] || writes[stepID] != nil {
                let write = writes[stepID] ?? StepWrite()
                workflowIDs.append(id)
                stepIDs.append(stepID)
                states.append(step.state.rawValue)
                phases.append(step.phase.rawValue)
                attempts.append(step.attempt)
                bases.append(step.attemptBase)
                pending.append(step.predecessorsPending)
                due.append(step.dueAt)
                seqs.append(step.completedSeq)
                tokens.append(step.fencingToken)
                outputs.append(write.output?.canonicalJSON)
                errors.append(write.error?.canonicalJSON)
                checkpoints.append(write.checkpoint?.canonicalJSON)
                startedFlags.append(startedSteps[id]?.contains(stepID) ?? false)
            }
            let snapshot = workflow.snapshot, original = workflow.original
            if snapshot.state != original.state || snapshot.pivotCrossed != original.pivotCrossed
                || snapshot.cancelRequested != original.cancelRequested || snapshot.error != original.error
                || workflow.output != nil {
                changedWorkflows.append((id, workflow))
            }
        }
        guard !workflowIDs.isEmpty || !changedWorkflows.isEmpty || !events.isEmpty else { return }
        // One statement for the steps, the workflows and the history rows of the transition, sent with the
        // transaction's next statement or its COMMIT.
        try connection.enqueue(PostgresStatement(SQL.Engine.writeTransition.text, [
            workflowIDs, stepIDs, states, phases, attempts, bases, pending, due, seqs, tokens, outputs, errors,
            checkpoints, started.isEmpty ? nil : eager?.workerID, started.isEmpty ? nil : eager?.leaseSeconds,
            startedFlags,
            changedWorkflows.map(\.0), changedWorkflows.map { $0.1.snapshot.state.rawValue },
            changedWorkflows.map { $0.1.snapshot.pivotCrossed }, changedWorkflows.map { $0.1.snapshot.cancelRequested },
            changedWorkflows.map { $0.1.snapshot.error?.canonicalJSON }, changedWorkflows.map { $0.1.output?.canonicalJSON },
        ] + Self.eventColumns(events), name: SQL.Engine.writeTransition.name))
    }

    /// Picks the steps this batch made ready and due, on the worker's queues, up to its free slots, in the order
    /// of the changes and then of the definition, and starts them in `workflows`. Steps that were ready
    /// before stay for the claim, which takes them by priority and due time.
    private static func startSuccessors(
        of changes: [Change], in workflows: inout [UUID: LoadedWorkflow], outcomes: [ChangeOutcome],
        eager: EagerStart, now: Date, excluding unreadable: Set<UUID>
    ) -> [(workflowID: UUID, stepID: String)] {
        var started: [(workflowID: UUID, stepID: String)] = []
        var seen = unreadable
        for (change, outcome) in zip(changes, outcomes) where outcome == .applied && !seen.contains(change.workflowID) {
            seen.insert(change.workflowID)
            guard var workflow = workflows[change.workflowID], eager.queues.contains(workflow.queue) else { continue }
            for step in workflow.definition.steps {
                guard started.count < eager.limit else { break }
                guard workflow.becameReady(step.id, at: now) else { continue }
                workflow.snapshot.steps[step.id]?.startAttempt()
                started.append((change.workflowID, step.id))
            }
            workflows[change.workflowID] = workflow
            if started.count >= eager.limit { break }
        }
        return started
    }

    func insertEvents(_ events: [EventRow], on connection: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        try connection.enqueue(PostgresStatement(SQL.Engine.insertEvents.text, Self.eventColumns(events), name: SQL.Engine.insertEvents.name))
    }

    /// The parameters of `insert_events` (and of the history part of `write_transition`), column by column.
    private static func eventColumns(_ events: [EventRow]) -> [any PostgresEncodable] {
        [
            events.map(\.workflowID), events.map(\.stepID), events.map(\.phase), events.map(\.attempt),
            events.map(\.fencingToken), events.map(\.kind), events.map(\.workerID), events.map(\.actor),
            events.map(\.reason), events.map { $0.details?.canonicalJSON },
        ]
    }

    /// A JSON column as a ``JSONValue``, parsed directly (the hot path reads several per claimed step).
    /// A step row's attempt counters and fencing token, refused as a damaged row when out of the range Unwind writes
    /// (migration 0007 bounds them for new writes): the state machine adds one to them, which must not overflow.
    static func counters(_ row: PostgresRow, workflowID: UUID, stepID: String) throws -> (attempt: Int, attemptBase: Int, fencingToken: Int64) {
        let attempt: Int = try row.decode("attempt"), attemptBase: Int = try row.decode("attempt_base")
        let fencingToken: Int64 = try row.decode("fencing_token")
        // Below migration 0007's bounds, with room for the `+ 1`s of a claim and a transition: a row at the bound
        // itself would pass the check and then fail the statement that adds one, for its whole batch.
        guard (0..<99_000_000).contains(attempt), (0..<99_000_000).contains(attemptBase),
              (0..<3_900_000_000_000_000_000).contains(fencingToken) else {
            throw StoreError.corruptRow(
                "step \(stepID) of workflow \(workflowID.uuidString.lowercased()) has attempt \(attempt), attempt base \(attemptBase) and fencing token \(fencingToken), beyond anything Unwind writes; the row was edited or damaged: restore it or cancel the workflow")
        }
        return (attempt, attemptBase, fencingToken)
    }

    /// A workflow's stored input, as a step receives it: an object that still fits its definition's `inputs`. One
    /// edited by hand into another shape (`"false"` for a boolean, a string for the whole input) would otherwise
    /// reach the actions, whose defaults for what they cannot read may be the destructive choice.
    static func storedInput(_ row: PostgresRow, definition: WorkflowDefinition) throws -> [String: JSONValue] {
        guard let object = try json(row, "input")?.objectValue else {
            throw StoreError.corruptRow("the workflow's stored input is not a JSON object")
        }
        let problems = definition.storedInputProblems(object)
        guard problems.isEmpty else {
            throw StoreError.corruptRow("the workflow's stored input does not fit its definition: \(problems.joined(separator: "; "))")
        }
        return object
    }

    static func json(_ row: PostgresRow, _ column: String) throws -> JSONValue? {
        guard let text = try row.decode(column, as: String?.self) else { return nil }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw StoreError.corruptRow("column '\(column)' holds invalid JSON: \(error)")
        }
    }
}
