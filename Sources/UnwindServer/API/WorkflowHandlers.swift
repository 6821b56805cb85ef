import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import UnwindCore
import UnwindEngine
import UnwindStore

// The `/api/v1` endpoints. Each reuses the store query or engine call its `unwind` command uses, so the API and
// the CLI cannot drift apart; docs/openapi.yaml describes them.
extension UnwindServer {
    // MARK: Reading

    /// `GET /api/v1/workflows`: like `unwind list` (newest first), one page at a time.
    func listWorkflows(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try RequestParsing.query(request, allowed: ["state", "workflow", "label", "since", "limit", "offset"])
        let state = try RequestParsing.single(query, "state")
        if let state, WorkflowState(rawValue: state) == nil {
            throw APIError.badRequest(
                "query parameter 'state' must be one of \(WorkflowState.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(RequestParsing.clip(state))')")
        }
        var labels: [String: String] = [:]
        for item in query["label"] ?? [] {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw APIError.badRequest("query parameter 'label' must be key=value (got '\(RequestParsing.clip(item))')")
            }
            // PostgreSQL text cannot hold NUL: refused here, as in the other filters, not a 500 from the database.
            guard !item.contains("\u{0}") else {
                throw APIError.badRequest("query parameter 'label' holds a NUL character (\\u0000), which no label can contain; remove it", code: "invalid_value")
            }
            if let earlier = labels[String(parts[0])], earlier != String(parts[1]) {
                throw APIError.badRequest(
                    "query parameter 'label' names '\(RequestParsing.clip(String(parts[0])))' twice with different values, which no workflow matches; give each label once")
            }
            labels[String(parts[0])] = String(parts[1])
        }
        var since: Date?
        if let text = try RequestParsing.single(query, "since") {
            // The ages `unwind list --since` takes (7d, 721h, 30m), or a time.
            if let duration = Duration(definitionText: text) {
                // What this parameter always took, bare seconds (`3600`) included.
                since = Date().addingTimeInterval(-(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18))
            } else if let seconds = try? Age.seconds(text) {
                since = Date().addingTimeInterval(-seconds)
            } else if case .time(let date) = StrictTime.read(text) {
                since = date
            } else {
                throw APIError.badRequest("query parameter 'since' must be an age such as 24h or 7d (up to 100 years), or an ISO 8601 time with its zone, such as 2026-12-01T02:00:00Z (got '\(RequestParsing.clip(text))')")
            }
        }
        let limit = try RequestParsing.integer(query, "limit", default: 50, range: 1...1000)
        let offset = try RequestParsing.integer(query, "offset", default: 0, range: 0...10_000_000)
        let filter = WorkflowFilter(
            state: state, workflow: try RequestParsing.single(query, "workflow"), since: since, labels: labels,
            limit: limit + 1, offset: offset)
        // One more than asked tells whether another page exists without counting the whole table.
        let rows = try await blocking { [store] in try store.list(filter) }
        return JSONResponse.make(WorkflowPage(
            workflows: Array(rows.prefix(limit)), limit: limit, offset: offset,
            nextOffset: rows.count > limit ? offset + limit : nil))
    }

    /// `GET /api/v1/counts`: workflows per state, for the dashboard's filters.
    func counts(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try RequestParsing.query(request, allowed: ["workflow"])
        let workflow = try RequestParsing.single(query, "workflow")
        let counts = try await blocking { [store] in try store.countsByState(workflow: workflow) }
        return JSONResponse.make(StateCounts(counts: counts, total: counts.values.reduce(0, +)))
    }

    /// `GET /api/v1/workflows/{id}`: like `unwind status` and `unwind history` together.
    func showWorkflow(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try RequestParsing.query(request, allowed: [])
        let id = try workflowID(context)
        let document = try await blocking { [store] in
            let workflow = try store.workflow(id)
            let steps = try store.steps(of: id)
            return WorkflowDocument(
                workflow: workflow, steps: steps.map(StepView.init), events: try store.events(of: id),
                actions: OperatorActionHints.applicable(to: workflow, steps: steps))
        }
        return JSONResponse.make(document)
    }

    // MARK: Submitting

    /// `POST /api/v1/workflows`: like `unwind submit`, including its acknowledgement gate.
    func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try RequestParsing.query(request, allowed: [])
        let body = try await RequestParsing.object(
            request, allowed: ["workflow", "input", "accept", "idempotency_key", "labels", "not_before", "priority", "queue", "actor"],
            limit: configuration.maximumBodyBytes, example: #"{"workflow": "secmaster-full-teardown", "input": {"domain_id": "…"}}"#)
        let name = try RequestParsing.string(body, "workflow", required: true, maxLength: 200)!
        var input: [String: JSONValue] = [:]
        if let value = body["input"], value != .null {
            guard let object = value.objectValue else { throw APIError.badRequest("field 'input' must be a JSON object of input fields") }
            input = object
        }
        var accepted: [String] = []
        if let value = body["accept"], value != .null {
            guard let list = value.arrayValue?.compactMap(\.stringValue), list.count == value.arrayValue?.count else {
                throw APIError.badRequest("field 'accept' must be an array of strings, e.g. [\"handling-fee\"]")
            }
            accepted = list
        }
        var labels: [String: String] = [:]
        if let value = body["labels"], value != .null {
            guard let object = value.objectValue, object.values.allSatisfy({ $0.stringValue != nil }) else {
                throw APIError.badRequest("field 'labels' must be an object of strings, e.g. {\"account\": \"acme\"}")
            }
            labels = object.compactMapValues(\.stringValue)
            if labels.keys.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw APIError.badRequest("field 'labels' has an empty key; give every label a name, e.g. {\"account\": \"acme\"}")
            }
        }
        let idempotencyKey = try RequestParsing.string(body, "idempotency_key", required: false, maxLength: SubmissionLimits.maxIdempotencyKeyLength)
        if let idempotencyKey, idempotencyKey.trimmingCharacters(in: .whitespaces).isEmpty {
            // An empty key would make every later submission with an unset variable return the first one.
            throw APIError.badRequest("field 'idempotency_key' must not be empty; leave it out to submit without one")
        }
        var notBefore: Date?
        if let text = try RequestParsing.string(body, "not_before", required: false) {
            switch StrictTime.read(text) {
            case .time(let date): notBefore = date
            case .impossible:
                throw APIError.badRequest("field 'not_before' is not a real date and time (no such day, hour or second): '\(RequestParsing.clip(text))'")
            case .malformed:
                throw APIError.badRequest("field 'not_before' must be an ISO 8601 time with its zone, such as 2026-12-01T02:00:00Z")
            }
        }
        var priority = 0
        if let value = body["priority"], value != .null {
            guard let number = value.intValue, (-SubmissionLimits.maxPriority...SubmissionLimits.maxPriority).contains(number) else {
                throw APIError.badRequest("field 'priority' must be a whole number from -\(SubmissionLimits.maxPriority) to \(SubmissionLimits.maxPriority) (higher runs first)")
            }
            priority = number
        }
        let queue = try RequestParsing.string(body, "queue", required: false, maxLength: 200).flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        if let problem = QueueName.problem(queue) { throw APIError.badRequest("field 'queue': \(problem)") }
        let actor = try RequestParsing.actor(body)
        // Before the plan, which calls the cloud: a request that cannot be stored is refused at once.
        let limits = SubmissionLimits.problems(labels: labels, notBefore: notBefore)
        if !limits.isEmpty { throw InputValidationError(problems: limits) }

        let definition = try await definition(named: name)
        let withAcknowledgements = try definition.input(input, withAcknowledgements: accepted)
        let validated = try definition.validateInput(withAcknowledgements)
        var planLogger = logger
        planLogger[metadataKey: "workflow"] = "\(definition.name)"
        try await AcknowledgementGate(runner: PlanRunner(registry: configuration.registry, logger: planLogger))
            .check(definition, input: validated)
        let outcome = try await blocking { [store, labels, notBefore, priority] in
            try WorkflowSubmitter(store: store).submit(
                definition, input: withAcknowledgements, labels: labels, idempotencyKey: idempotencyKey, notBefore: notBefore,
                submittedBy: actor, priority: priority, queue: queue)
        }
        let created: Bool = if case .created = outcome { true } else { false }
        logger.info("workflow submitted through the API", metadata: [
            "workflow.id": "\(outcome.workflowID.uuidString.lowercased())", "workflow.name": "\(definition.name)",
            "actor": "\(actor)", "created": "\(created)",
        ])
        return JSONResponse.make(
            SubmitResult(id: outcome.workflowID.uuidString.lowercased(), workflow: definition.name, created: created),
            status: created ? .created : .ok)
    }

    private func definition(named name: String) async throws -> WorkflowDefinition {
        let directory = configuration.workflowsDirectory
        let known = configuration.registry.names, plans = configuration.registry.planNames
        let (definitions, errors) = try await blocking { WorkflowCatalog.load(directory: directory, knownActions: known, planActions: plans) }
        switch WorkflowCatalog.lookup(name, definitions: definitions, errors: errors) {
        case .found(let definition):
            return definition
        case .broken(let broken):
            // Named by file name only: where the server keeps its definitions is its business (like the log's).
            throw APIError(.unprocessableContent, "invalid_definition",
                           "workflow '\(RequestParsing.clip(name))' is invalid on the server: \(broken.description.replacingOccurrences(of: directory + "/", with: ""))")
        case .directoryUnreadable(let problem):
            // The path and the system's reason are the server's business (logged), not the client's.
            logger.error("cannot read the workflow directory", metadata: ["directory": "\(directory)", "error": "\(problem)"])
            throw APIError(.internalServerError, "definitions_unreadable", "the server cannot read its workflow definitions; its operator must fix the workflow directory")
        case .unknown(let names):
            throw APIError.badRequest(
                "unknown workflow '\(RequestParsing.clip(name))'; known workflows: \(names.isEmpty ? "(none)" : names.joined(separator: ", "))",
                code: "unknown_workflow")
        }
    }

    // MARK: Operator actions

    /// `POST /api/v1/workflows/{id}/resume`: like `unwind resume`.
    func resume(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await operatorAction(request, context, fields: ["from_step"], name: "resume") { body in
            .resume(fromStep: try RequestParsing.string(body, "from_step", required: false, maxLength: 200).flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// `POST /api/v1/workflows/{id}/cancel`: like `unwind cancel` (`force` past the point of no return).
    func cancel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await operatorAction(request, context, fields: ["force"], name: "cancel") { body in
            .cancel(force: try RequestParsing.bool(body, "force"))
        }
    }

    /// `POST /api/v1/workflows/{id}/skip`: like `unwind skip`.
    func skip(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await operatorAction(request, context, fields: ["step"], name: "skip") { body in
            .skip(step: try RequestParsing.string(body, "step", required: true, maxLength: 200)!)
        }
    }

    private func operatorAction(
        _ request: Request, _ context: BasicRequestContext, fields: Set<String>, name: String,
        kind: ([String: JSONValue]) throws -> OperatorAction.Kind
    ) async throws -> Response {
        _ = try RequestParsing.query(request, allowed: [])
        let id = try workflowID(context)
        let body = try await RequestParsing.object(request, allowed: fields.union(["reason", "actor"]), limit: configuration.maximumBodyBytes)
        let reason = try RequestParsing.string(body, "reason", required: true)!
        let action = OperatorAction(try kind(body), actor: try RequestParsing.actor(body), reason: reason)
        let state = try await blocking { [store] in
            try store.perform(action, on: id)
            return try store.workflow(id).state
        }
        logger.notice("operator action through the API", metadata: [
            "workflow.id": "\(id.uuidString.lowercased())", "action": "\(name)", "actor": "\(action.actor)",
        ])
        return JSONResponse.make(ActionResult(id: id.uuidString.lowercased(), action: name, state: state))
    }

    private func workflowID(_ context: BasicRequestContext) throws(APIError) -> UUID {
        let text = context.parameters.get("id") ?? ""
        guard let id = UUID(uuidString: text) else {
            throw .badRequest(
                "'\(RequestParsing.clip(text))' is not a workflow ID; use the full UUID shown by GET /api/v1/workflows (e.g. 3f2a9c1e-…)",
                code: "malformed_id")
        }
        return id
    }

    // MARK: Health

    /// `GET /readyz`: the database answers and its migrations are exactly the ones this binary expects.
    func readiness() async -> Response {
        let pool = store.pool
        let outcome = await blockingWithDeadline(seconds: 5) { () -> String? in
            try pool.withConnection { connection in
                let status = try Migrator.embedded().status(connection: connection)
                if let problem = status.problems.first { return "migrations do not match this binary: \(problem)" }
                if !status.pending.isEmpty { return "\(status.pending.count) migration(s) pending; run: unwind migrate" }
                return nil
            }
        }
        let reason: String? = switch outcome {
        case .none: "the database did not answer within 5 s"
        case .some(.failure(let error)): "the database cannot be reached: \(error)"
        case .some(.success(let problem)): problem
        }
        if let reason {
            return JSONResponse.make(Readiness(status: "unavailable", reason: reason), status: .serviceUnavailable)
        }
        return JSONResponse.make(Readiness(status: "ready", reason: nil))
    }
}

/// Runs blocking work with a deadline: nil when it did not finish in time (it is left to finish on its own).
func blockingWithDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () throws -> T) async -> Result<T, any Error>? {
    await withCheckedContinuation { continuation in
        let pending = PendingContinuation(continuation)
        DispatchQueue.global().async {
            let result = Result { try body() }
            pending.resume(returning: result)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            pending.resume(returning: nil)
        }
    }
}

/// A continuation resumed by whichever of two racers comes first; the other finds it gone.
final class PendingContinuation<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(returning value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}

// MARK: Answers

struct WorkflowPage: Encodable {
    var workflows: [WorkflowSummary]
    var limit: Int
    var offset: Int
    var nextOffset: Int?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(workflows, forKey: .workflows)
        try container.encode(limit, forKey: .limit)
        try container.encode(offset, forKey: .offset)
        try container.encode(nextOffset, forKey: .nextOffset)  // null, not absent, on the last page
    }

    enum CodingKeys: String, CodingKey { case workflows, limit, offset, nextOffset }
}

struct StateCounts: Encodable {
    var counts: [String: Int]
    var total: Int
}

struct WorkflowDocument: Encodable {
    var workflow: WorkflowRecord
    var steps: [StepView]
    var events: [EventRecord]
    var actions: [String]
}

/// A step as `unwind status` shows it: the stored record plus its progress note and duration.
struct StepView: Encodable {
    var record: StepRecord

    init(_ record: StepRecord) { self.record = record }

    enum Extra: String, CodingKey { case progress, durationSeconds }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: Extra.self)
        try container.encode(record.progressNote, forKey: .progress)
        let duration = record.startedAt.map { (record.finishedAt ?? Date()).timeIntervalSince($0) }
        try container.encode(duration.map { ($0 * 1000).rounded() / 1000 }, forKey: .durationSeconds)
    }
}

/// Which operator actions may apply now (the store still decides; these drive the dashboard's forms).
enum OperatorActionHints {
    static func applicable(to workflow: WorkflowRecord, steps: [StepRecord]) -> [String] {
        guard let state = WorkflowState(rawValue: workflow.state) else { return [] }
        var actions: [String] = []
        if state.needsAttention { actions.append("resume") }
        // Only a failed step can be skipped: a workflow stopped by a cancel that raced its pivot has none.
        if state == .failed, steps.contains(where: { $0.state == "failed" }) { actions.append("skip") }
        if !state.isTerminal { actions.append("cancel") }
        return actions
    }
}

/// Ids are written lower-case, as everywhere else (JSONEncoder writes a UUID upper-case).
struct SubmitResult: Encodable {
    var id: String
    var workflow: String
    var created: Bool
}

struct ActionResult: Encodable {
    var id: String
    var action: String
    var state: String
}

struct Readiness: Encodable {
    var status: String
    var reason: String?
}
