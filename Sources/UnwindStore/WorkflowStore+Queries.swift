import Foundation
import Postgres
import UnwindCore

/// A workflow as `unwind status` shows it.
public struct WorkflowRecord: Sendable, Codable, Equatable {
    @LowercaseUUID public var id: UUID
    public var workflow: String
    public var state: String
    public var queue: String
    public var priority: Int
    public var input: JSONValue
    public var labels: [String: String]
    public var idempotencyKey: String?
    public var concurrencyKey: String?
    public var pivotCrossed: Bool
    public var cancelRequested: Bool
    public var notBefore: Date?
    public var submittedBy: String
    public var createdAt: Date
    public var startedAt: Date?
    public var updatedAt: Date
    public var finishedAt: Date?
    public var error: JSONValue?
    public var output: JSONValue?
    public var definitionHash: String
    public var definitionID: Int64
}

public struct StepRecord: Sendable, Codable, Equatable {
    public var stepID: String
    public var ordinal: Int
    public var action: String
    public var phase: String
    public var state: String
    public var attempt: Int
    public var attemptBase: Int
    public var dueAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var fencingToken: Int64
    public var idempotencyKey: String
    public var checkpoint: JSONValue?
    public var output: JSONValue?
    public var lastError: JSONValue?
    public var startedAt: Date?
    public var finishedAt: Date?
}

public struct EventRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var stepID: String?
    public var phase: String?
    public var attempt: Int?
    public var fencingToken: Int64?
    public var kind: String
    public var at: Date
    public var workerID: String?
    public var actor: String?
    public var reason: String?
    public var details: JSONValue?
}

public struct WorkflowSummary: Sendable, Codable, Equatable {
    @LowercaseUUID public var id: UUID
    public var workflow: String
    public var state: String
    public var labels: [String: String]
    public var submittedBy: String
    public var createdAt: Date
    public var finishedAt: Date?
    public var stepsTotal: Int
    public var stepsDone: Int
}

public struct WorkerRecord: Sendable, Codable, Equatable {
    public var id: String
    public var hostname: String
    public var pid: Int
    public var concurrency: Int
    public var queues: [String]
    public var version: String
    public var state: String
    public var startedAt: Date
    public var heartbeatAt: Date
    public var running: Int
}

public struct WorkflowFilter: Sendable {
    public var state: String?
    public var workflow: String?
    public var since: Date?
    public var labels: [String: String]
    public var limit: Int
    public var offset: Int

    public init(state: String? = nil, workflow: String? = nil, since: Date? = nil, labels: [String: String] = [:], limit: Int = 50, offset: Int = 0) {
        self.state = state
        self.workflow = workflow
        self.since = since
        self.labels = labels
        self.limit = limit
        self.offset = offset
    }
}

extension WorkflowStore {
    /// Resolves a full workflow ID or a unique prefix of one (like git commit IDs).
    public func resolveWorkflowID(_ text: String) throws -> UUID {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let id = UUID(uuidString: trimmed) { return id }
        guard trimmed.count >= 4, trimmed.count < 36,
              trimmed.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw StoreError.malformedWorkflowID(String(text.prefix(64)))
        }
        let matches = try pool.withConnection { connection in
            try connection.query(SQL.Engine.workflowIDsByPrefix.text, [trimmed], name: SQL.Engine.workflowIDsByPrefix.name)
                .rows.map { try $0.decode("id", as: UUID.self) }
        }
        switch matches.count {
        case 0: throw StoreError.workflowNotFound(trimmed)
        case 1: return matches[0]
        default: throw StoreError.ambiguousWorkflowID(prefix: trimmed, matches: matches)
        }
    }

    public func workflow(_ id: UUID) throws -> WorkflowRecord {
        try pool.withConnection { connection in
            guard let row = try connection.query(SQL.Engine.workflowByID.text, [id], name: SQL.Engine.workflowByID.name).first else {
                throw StoreError.workflowNotFound(id.uuidString.lowercased())
            }
            return WorkflowRecord(
                id: try row.decode("id"), workflow: try row.decode("workflow_name"), state: try row.decode("state"),
                queue: try row.decode("queue"), priority: try row.decode("priority"),
                input: Self.shownJSON(row, "input") ?? .object([:]),
                labels: Self.labels(row),
                idempotencyKey: try row.decode("idempotency_key"), concurrencyKey: try row.decode("concurrency_key"),
                pivotCrossed: try row.decode("pivot_crossed"), cancelRequested: try row.decode("cancel_requested"),
                notBefore: try row.decode("not_before"), submittedBy: try row.decode("submitted_by"),
                createdAt: try row.decode("created_at"), startedAt: try row.decode("started_at"),
                updatedAt: try row.decode("updated_at"), finishedAt: try row.decode("finished_at"),
                error: Self.shownJSON(row, "error"), output: Self.shownJSON(row, "output"),
                definitionHash: try row.decode("content_hash"), definitionID: try row.decode("definition_id"))
        }
    }

    /// A JSON column as shown to people (`unwind status`, the API's workflow): one edited by hand into something this
    /// version cannot read is shown as such, so that the rest of the workflow (its state, its steps) can still be seen
    /// and acted on. Never used to run anything: steps read their input through the claim, which refuses it.
    static func shownJSON(_ row: PostgresRow, _ column: String) -> JSONValue? {
        do {
            return try json(row, column)
        } catch {
            return .object(["(unreadable)": .string("column '\(column)' cannot be read (edited by hand?): \(rowProblem(error))")])
        }
    }

    /// The states of many workflows at once (missing IDs are left out).
    public func states(of ids: [UUID]) throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return try pool.withConnection { connection in
            var states: [UUID: String] = [:]
            for row in try connection.query(SQL.Engine.workflowStates.text, [ids], name: SQL.Engine.workflowStates.name).rows {
                states[try row.decode("id", as: UUID.self)] = try row.decode("state", as: String.self)
            }
            return states
        }
    }

    public func steps(of id: UUID) throws -> [StepRecord] {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.stepsOfWorkflow.text, [id], name: SQL.Engine.stepsOfWorkflow.name).rows.map { row in
                StepRecord(
                    stepID: try row.decode("step_id"), ordinal: try row.decode("ordinal"), action: try row.decode("action"),
                    phase: try row.decode("phase"), state: try row.decode("state"), attempt: try row.decode("attempt"),
                    attemptBase: try row.decode("attempt_base"), dueAt: try row.decode("due_at"),
                    leaseOwner: try row.decode("lease_owner"), leaseExpiresAt: try row.decode("lease_expires_at"),
                    fencingToken: try row.decode("fencing_token"), idempotencyKey: try row.decode("idempotency_key"),
                    checkpoint: try Self.json(row, "checkpoint"), output: try Self.json(row, "output"),
                    lastError: try Self.json(row, "last_error"), startedAt: try row.decode("started_at"),
                    finishedAt: try row.decode("finished_at"))
            }
        }
    }

    public func events(of id: UUID) throws -> [EventRecord] {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.eventsOfWorkflow.text, [id], name: SQL.Engine.eventsOfWorkflow.name).rows.map { row in
                EventRecord(
                    id: try row.decode("id"), stepID: try row.decode("step_id"), phase: try row.decode("phase"),
                    attempt: try row.decode("attempt"), fencingToken: try row.decode("fencing_token"),
                    kind: try row.decode("kind"), at: try row.decode("at"), workerID: try row.decode("worker_id"),
                    actor: try row.decode("actor"), reason: try row.decode("reason"), details: try Self.json(row, "details"))
            }
        }
    }

    public func list(_ filter: WorkflowFilter) throws -> [WorkflowSummary] {
        let labels: PostgresRawJSON? = filter.labels.isEmpty ? nil
            : PostgresRawJSON(JSONValue.object(filter.labels.mapValues { .string($0) }).canonicalJSON)
        return try pool.withConnection { connection in
            try connection.query(SQL.Engine.listWorkflows.text, [
                filter.state, filter.workflow, filter.since, labels, filter.limit, filter.offset,
            ], name: SQL.Engine.listWorkflows.name).rows.map { row in
                WorkflowSummary(
                    id: try row.decode("id"), workflow: try row.decode("workflow_name"), state: try row.decode("state"),
                    labels: Self.labels(row), submittedBy: try row.decode("submitted_by"),
                    createdAt: try row.decode("created_at"), finishedAt: try row.decode("finished_at"),
                    stepsTotal: try row.decode("steps_total"), stepsDone: try row.decode("steps_done"))
            }
        }
    }

    public func workers() throws -> [WorkerRecord] {
        try pool.withConnection { connection in
            try connection.query(SQL.Engine.workers.text, [WorkflowStore.silentWorkerSeconds], name: SQL.Engine.workers.name).rows.map { row in
                WorkerRecord(
                    id: try row.decode("id"), hostname: try row.decode("hostname"), pid: try row.decode("pid"),
                    concurrency: try row.decode("concurrency"), queues: try row.decode("queues"),
                    version: try row.decode("version"), state: try row.decode("state"),
                    startedAt: try row.decode("started_at"), heartbeatAt: try row.decode("heartbeat_at"),
                    running: try row.decode("running"))
            }
        }
    }
}

extension WorkflowStore {
    /// A workflow's labels, as shown. Unwind writes strings only; a value edited into something else by hand is shown
    /// as its JSON text, and labels that are not an object or cannot be read at all under `(labels)`, rather than
    /// failing every listing that includes the workflow, or vanishing.
    static func labels(_ row: PostgresRow) -> [String: String] {
        let value: JSONValue?
        do {
            value = try json(row, "labels")
        } catch {
            return ["(labels)": "cannot be read (edited by hand?)"]
        }
        switch value {
        case .object(let fields)?: return fields.mapValues { value in value.stringValue ?? value.canonicalJSON }
        case nil, .null?: return [:]
        case let other?: return ["(labels)": other.canonicalJSON]
        }
    }
}
