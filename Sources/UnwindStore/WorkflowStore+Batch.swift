import Foundation
import Postgres
import UnwindCore

/// The outcome of one row of a batch submission.
public enum BatchSubmitOutcome: Sendable, Equatable {
    case created(UUID)
    /// Its idempotency key was already used: nothing new was created.
    case existing(UUID)
    /// Another unfinished workflow holds its concurrency key (or an earlier row of this batch does).
    case concurrencyKeyHeld(key: String, holder: UUID?)
    /// Its idempotency key was used by a workflow (or an earlier row) of another definition or input.
    case idempotencyKeyReused(key: String, holder: UUID)
}

extension WorkflowStore {
    /// Submits many workflows of one definition in one transaction with a constant number of statements,
    /// whatever the batch size. Inputs must already be validated. Rows are independent: a held concurrency key
    /// or an existing idempotency key affects that row only.
    public func submitBatch(
        definition: WorkflowDefinition, requests: [SubmitRequest]
    ) throws -> [BatchSubmitOutcome] {
        guard !requests.isEmpty else { return [] }
        return try pool.transaction { connection in
            try self.submitBatch(definition: definition, requests: requests, on: connection)
        }
    }

    private func submitBatch(
        definition: WorkflowDefinition, requests: [SubmitRequest], on connection: PostgresConnection
    ) throws -> [BatchSubmitOutcome] {
        let definitionID = try storeDefinition(definition, on: connection)
        let now = Date()
        let renderer = definition.concurrencyKeyRenderer
        let keys = requests.map { renderer?.render(input: $0.input) ?? nil }

        // Rows whose idempotency key exists already are answered with the existing workflow.
        // A key used for another workflow or input is a mistake, not a repeat (see `KeyHolder`).
        var existing: [String: KeyHolder] = [:]
        let idempotencyKeys = requests.compactMap(\.idempotencyKey)
        if !idempotencyKeys.isEmpty {
            for row in try connection.query(SQL.Engine.workflowsByIdempotencyKeys.text, [idempotencyKeys],
                                            name: SQL.Engine.workflowsByIdempotencyKeys.name).rows {
                existing[try row.decode("idempotency_key")] = try KeyHolder(row)
            }
        }
        // Concurrency keys held by unfinished workflows, and by earlier rows of this batch.
        var held: [String: UUID] = [:]
        let concurrencyKeys = keys.compactMap { $0 }
        if !concurrencyKeys.isEmpty {
            for row in try connection.query(SQL.Engine.activeConcurrencyKeys.text, [concurrencyKeys],
                                            name: SQL.Engine.activeConcurrencyKeys.name).rows {
                held[try row.decode("concurrency_key")] = try row.decode("id")
            }
        }

        var outcomes: [BatchSubmitOutcome?] = Array(repeating: nil, count: requests.count)
        var seenIdempotency: [String: KeyHolder] = [:]
        var ids: [UUID] = [], states: [String] = [], inputs: [String] = [], labels: [String] = []
        var idempotency: [String?] = [], concurrency: [String?] = [], notBefore: [Date?] = []
        for (index, request) in requests.enumerated() {
            if let key = request.idempotencyKey, let earlier = existing[key] ?? seenIdempotency[key] {
                outcomes[index] = earlier.isRepeat(of: request) ? .existing(earlier.id) : .idempotencyKeyReused(key: key, holder: earlier.id)
                continue
            }
            if let key = keys[index], let holder = held[key] {
                outcomes[index] = .concurrencyKeyHeld(key: key, holder: holder)
                continue
            }
            let id = UUID()
            if let key = request.idempotencyKey { seenIdempotency[key] = KeyHolder(id: id, workflow: definition.name, input: .object(request.input)) }
            if let key = keys[index] { held[key] = id }
            let scheduled = request.notBefore.map { $0 > now } ?? false
            ids.append(id)
            states.append(scheduled ? WorkflowState.scheduled.rawValue : WorkflowState.running.rawValue)
            inputs.append(JSONValue.object(request.input).canonicalJSON)
            labels.append(JSONValue.object(request.labels.mapValues { .string($0) }).canonicalJSON)
            idempotency.append(request.idempotencyKey)
            concurrency.append(keys[index])
            notBefore.append(request.notBefore)
            outcomes[index] = .created(id)
        }
        if !ids.isEmpty {
            let first = requests[0]
            let inserted = try Self.insertingWorkflows(on: connection, [
                definitionID, definition.name, first.queue, first.priority, first.submittedBy,
                ids, states, inputs, labels, idempotency, concurrency, notBefore,
            ])
            if inserted.affectedRows != ids.count {
                // A concurrent submitter took an idempotency key between our check and the insert: run the
                // whole batch again (the caller's transaction retry does), now seeing its rows as existing.
                throw PostgresError(code: .server, message: "an idempotency key of this batch was taken concurrently", sqlState: "40001")
            }
            let steps = definition.steps
            try connection.enqueue(PostgresStatement(SQL.Engine.insertStepsBatch.text, [
                first.queue, ids, states, notBefore,
                steps.map(\.id), Array(steps.indices), steps.map(\.action),
                steps.map { $0.priority + first.priority },  // the workflows' priority plus each step's own
                steps.map(\.after.count),
            ], name: SQL.Engine.insertStepsBatch.name))
            try insertEvents(ids.map {
                EventRow(workflowID: $0, kind: "workflow_submitted", actor: first.submittedBy,
                         details: ["workflow": .string(definition.name), "definition_hash": .string(definition.contentHash), "batch": true])
            }, on: connection)
            if states.contains(WorkflowState.running.rawValue) {
                try connection.enqueue(PostgresStatement(SQL.Engine.notifyReady.text, [first.queue], name: SQL.Engine.notifyReady.name))
            }
        }
        return outcomes.map { $0! }
    }

    /// Inserts a batch of workflows. The only unique index the insert can still hit is the active concurrency
    /// key's (ids are new, idempotency keys are ON CONFLICT DO NOTHING): a concurrent submitter (another lane of a
    /// fleet, another operator) took a key between our check and the insert. That is reported as a serialization
    /// failure, so the transaction runs again, sees the holder, and refuses that row only.
    private static func insertingWorkflows(on connection: PostgresConnection, _ parameters: [any PostgresEncodable]) throws -> PostgresResult {
        do {
            return try connection.query(SQL.Engine.insertWorkflowBatch.text, parameters, name: SQL.Engine.insertWorkflowBatch.name)
        } catch {
            guard error.isUniqueViolation else { throw error }
            throw PostgresError(code: .server, message: "a concurrency key of this batch was taken concurrently", sqlState: "40001")
        }
    }
}
