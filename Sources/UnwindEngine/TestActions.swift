import Foundation
import UnwindCore

/// Actions for trying the engine without a cloud: `test.noop`, `test.sleep` and `test.undo` (a compensation).
///
/// Their behaviour can be scripted per step through the workflow input field `test` (declare it in the
/// definition as `test: {type: object}`), keyed by step id (`"<step>:compensate"` for its compensation):
///
/// ```json
/// {"test": {"commit": {"fail": "permanent"}, "finish": {"fail": "transient", "times": 2},
///           "slow": {"sleep_ms": 5000, "sleep_times": 1}, "pivot": {"irreversible": true, "fail": "permanent"},
///           "poll": {"wait_ms": 200}, "fix": {"fail": "permanent", "while_file_exists": "/tmp/broken"}}}
/// ```
/// - `fail`: `permanent` (not retryable) or `transient`; `times`: only the first N attempts fail;
///   `while_file_exists`: fail only while that file exists (fix the cause, then resume).
/// - `sleep_ms` (also the input field `sleep_ms` for `test.sleep`): sleep first; `sleep_times`: only the
///   first N attempts sleep.
/// - `irreversible`: save an irreversible checkpoint before anything else.
/// - `checkpoint`: save a checkpoint after the sleep.
/// - `wait_ms`: the first time, park the step in a durable wait for that long, then complete.
public enum TestActions {
    public static func register(into registry: inout ActionRegistry) {
        registry.register("test.noop") { try await scripted($0, defaultSleepMilliseconds: 0) }
        registry.register("test.sleep") { context in
            try await scripted(context, defaultSleepMilliseconds: context.input["sleep_ms"]?.intValue ?? 100)
        }
        registry.register("test.undo") { try await scripted($0, defaultSleepMilliseconds: 0) }
        // A plan for test workflows: one item per step, and a `test-fee` acknowledgement when the input's
        // `fee` is above zero. A `fee` of -1 makes its read fail as a throttled cloud would (retryable), -2 as a
        // refusal (permanent).
        registry.registerPlan("test.plan") { context in
            let fee = context.input["fee"]?.doubleValue ?? 0
            if fee == -1 { throw StepFailure(code: "APIGW.0308", message: "scripted throttled plan read", retryable: true) }
            if fee == -2 { throw StepFailure(code: "TEST.PERMANENT", message: "scripted refused plan read", retryable: false) }
            var plan: [String: JSONValue] = [
                "summary": .string("test plan for \(context.workflowName)"),
                "steps": .array([.object(["step": "all", "items": .array([
                    .object(["resource": "thing-1", "action": "remove", "amounts": .object(["fee": .number(fee)])]),
                ])])]),
                "totals": .object(["fee": .number(fee)]),
            ]
            if fee > 0 {
                plan["acknowledgements"] = .array([.object(["flag": "test-fee", "reason": .string("removing thing-1 costs a fee of \(fee)")])])
            }
            return .completed(.object(plan))
        }
    }

    static func scripted(_ context: StepContext, defaultSleepMilliseconds: Int) async throws -> StepOutcome {
        let key = context.phase == .forward ? context.stepID : context.stepID + ":compensate"
        let script = context.input["test"]?[key]?.objectValue ?? [:]
        let totalAttempt = context.attempt

        if script["irreversible"]?.boolValue == true {
            try await context.saveCheckpoint(["irreversible_change": true], irreversible: true)
        }
        let sleepTimes = script["sleep_times"]?.intValue ?? Int.max
        let sleepMilliseconds = script["sleep_ms"]?.intValue ?? defaultSleepMilliseconds
        if sleepMilliseconds > 0 && totalAttempt <= sleepTimes {
            try await Task.sleep(for: .milliseconds(sleepMilliseconds))
        }
        if script["checkpoint"]?.boolValue == true {
            try await context.saveCheckpoint(["checkpointed_on_attempt": .number(Double(totalAttempt))])
        }
        if let waitMilliseconds = script["wait_ms"]?.intValue, context.checkpoint?["waited"]?.boolValue != true {
            return .wait(until: Date().addingTimeInterval(Double(waitMilliseconds) / 1000), checkpoint: ["waited": true])
        }
        if let mode = script["fail"]?.stringValue {
            let times = script["times"]?.intValue ?? Int.max
            var shouldFail = totalAttempt <= times
            if let path = script["while_file_exists"]?.stringValue {
                shouldFail = FileManager.default.fileExists(atPath: path)
            }
            if shouldFail {
                throw StepFailure(
                    code: mode == "permanent" ? "TEST.PERMANENT" : "TEST.TRANSIENT",
                    message: "scripted \(mode) failure of \(key) (attempt \(totalAttempt))",
                    retryable: mode != "permanent")
            }
        }
        return .completed(["step": .string(context.stepID), "phase": .string(context.phase.rawValue), "attempt": .number(Double(totalAttempt))])
    }
}
