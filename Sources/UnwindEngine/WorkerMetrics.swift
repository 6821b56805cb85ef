import UnwindCore
import UnwindObservability
import UnwindStore

/// How the worker turns its attempts into metrics. Kept out of `Worker.swift`, which only marks the points
/// where an attempt starts and ends, a claim is made and leases are lost or rescued.
extension UnwindMetrics {
    /// Counts a started attempt (not the resumption of a durable wait, which continues its attempt) and returns
    /// the start time for ``attemptFinished(_:_:since:)``.
    func attemptStarted(_ claimed: ClaimedStep) -> ContinuousClock.Instant {
        if !claimed.isResumedWait {
            stepStarted(workflow: claimed.definition.name, step: claimed.stepID, phase: claimed.phase.rawValue)
        }
        return .now
    }

    /// Records an attempt's outcome and duration. A nil outcome (the lease was lost or handed back) is not an
    /// outcome of the step: it shows in `unwind_leases_expired_total` instead.
    func attemptFinished(_ claimed: ClaimedStep, _ outcome: AttemptResult.Outcome?, since start: ContinuousClock.Instant) {
        guard let outcome else { return }
        let workflow = claimed.definition.name
        let phase = claimed.phase.rawValue
        let duration = ContinuousClock.now - start
        switch outcome {
        case .succeeded:
            stepFinished(workflow: workflow, step: claimed.stepID, phase: phase, succeeded: true, duration: duration)
        case .waiting:
            stepFinished(workflow: workflow, step: claimed.stepID, phase: phase, succeeded: nil, duration: duration)
        case .failed(let failure):
            // The same decision the state machine makes when it records the failure.
            let policy = claimed.retryPolicy
            let retryable = failure.retryable && policy.isRetryable(errorCode: failure.code)
            let willRetry = retryable && claimed.attempt - claimed.attemptBase < policy.maxAttempts
            stepFinished(
                workflow: workflow, step: claimed.stepID, phase: phase, succeeded: false, retryable: retryable,
                willRetry: willRetry, duration: duration)
        }
    }

    func claimed(since start: ContinuousClock.Instant) {
        claimed(in: ContinuousClock.now - start)
    }
}

extension ClaimedStep {
    /// The retry policy of this attempt's phase (the step's, or its compensation's).
    var retryPolicy: RetryPolicy {
        switch phase {
        case .forward: stepDefinition?.retry ?? .default
        case .compensate: stepDefinition?.compensation?.retry ?? .default
        }
    }
}
