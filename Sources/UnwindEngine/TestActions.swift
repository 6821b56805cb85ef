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
/// - `wait_ms`: the first time, park the step in a durable wait for that long, then complete.
public enum TestActions {
    public static func register(into registry: inout ActionRegistry) {
        registry.register("test.noop") { try await scripted($0, defaultSleepMilliseconds: 0) }
        registry.register("test.sleep") { context in
            try await scripted(context, defaultSleepMilliseconds: context.input["sleep_ms"]?.intValue ?? 100)
        }
        registry.register("test.undo") { try await scripted($0, defaultSleepMilliseconds: 0) }
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
