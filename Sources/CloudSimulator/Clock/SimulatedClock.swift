import Foundation
import Synchronization

/// The simulator's notion of "now": real time by default, optionally sped up, frozen or moved by hand.
///
/// Every time-dependent behaviour (order phases, job phases, the five-day refund window, signature skew,
/// throttling windows) reads this clock, so tests can freeze it and step through a teardown deterministically.
public final class SimulatedClock: Sendable {
    /// Bounds on the speed-up and on one advance: simulated time must stay a representable date.
    public static let maxScale: Double = 1_000_000
    public static let maxAdvanceSeconds: Double = 100 * 365 * 86_400

    public struct Reading: Sendable, Equatable {
        public var now: Date
        public var scale: Double
        public var frozen: Bool
    }

    private struct State {
        /// Simulated time at `anchorReal`.
        var anchorSimulated: Date
        var anchorReal: Date
        var scale: Double
        var frozen: Bool
    }

    private let state: Mutex<State>
    private let realNow: @Sendable () -> Date

    /// - Parameters:
    ///   - start: simulated time to start from (default: the real time).
    ///   - scale: simulated seconds per real second.
    ///   - realNow: the real clock; injectable for tests.
    public init(start: Date? = nil, scale: Double = 1, frozen: Bool = false, realNow: @escaping @Sendable () -> Date = { Date() }) {
        let real = realNow()
        self.realNow = realNow
        self.state = Mutex(State(anchorSimulated: start ?? real, anchorReal: real, scale: scale, frozen: frozen))
    }

    public func now() -> Date { reading().now }

    /// The real (wall-clock) time this clock is driven by.
    public func realTime() -> Date { realNow() }

    public func reading() -> Reading {
        let real = realNow()
        return state.withLock { Reading(now: Self.current($0, real: real), scale: $0.scale, frozen: $0.frozen) }
    }

    /// Moves simulated time forward (also when frozen).
    public func advance(by seconds: Double) {
        let real = realNow()
        state.withLock { $0.anchorSimulated = Self.current($0, real: real).addingTimeInterval(seconds); $0.anchorReal = real }
    }

    public func set(to date: Date) {
        let real = realNow()
        state.withLock { $0.anchorSimulated = date; $0.anchorReal = real }
    }

    public func setFrozen(_ frozen: Bool) {
        let real = realNow()
        state.withLock { $0.anchorSimulated = Self.current($0, real: real); $0.anchorReal = real; $0.frozen = frozen }
    }

    public func setScale(_ scale: Double) {
        let real = realNow()
        state.withLock { $0.anchorSimulated = Self.current($0, real: real); $0.anchorReal = real; $0.scale = scale }
    }

    /// How long to wait in real time for `simulatedSeconds` to pass (`nil` when frozen: it never passes by itself).
    public func realDuration(ofSimulated simulatedSeconds: Double) -> Double? {
        state.withLock { $0.frozen || $0.scale <= 0 ? nil : simulatedSeconds / $0.scale }
    }

    private static func current(_ state: State, real: Date) -> Date {
        state.frozen ? state.anchorSimulated : state.anchorSimulated.addingTimeInterval(real.timeIntervalSince(state.anchorReal) * state.scale)
    }
}
