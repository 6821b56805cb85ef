import Dispatch
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization
import UnwindEngine
import UnwindObservability

/// The worker's blocking run loop as a ServiceLifecycle service.
///
/// The loop runs on a thread of its own (it blocks in libpq and on Dispatch, which must not happen on the
/// cooperative thread pool). Graceful shutdown of the group (SIGTERM/SIGINT) or cancellation calls
/// ``Worker/requestStop()``: no new claims, running steps get the grace period, the attempts of the rest end
/// (`worker_stopped`) or are handed back; the service returns when that drain is over. A second SIGTERM/SIGINT during the drain exits at
/// once (the leases of running steps then expire by themselves). Should the drain itself hang (a database that
/// stopped answering mid-query), the service gives up ``drainMargin`` after the grace period.
struct WorkerService: Service, CustomStringConvertible {
    let worker: Worker
    let logger: Logger
    /// Yields once the metrics listener is up (nil: no listener). The worker registers and claims only then: a
    /// listener that cannot bind ends the group before this worker ever appears in `unwind workers`.
    var startsAfter: AsyncStream<Void>? = nil

    /// Time for the drain's own database work after the grace period: writing results (the stopped attempts'), handing back leases
    /// (a pooled connection may take up to its 30 s acquire timeout), marking the worker stopped.
    static let drainMargin = Duration.seconds(45)

    var description: String { "worker" }

    func run() async throws {
        if let startsAfter {
            for await _ in startsAfter { break }
            // Cancelled while waiting (the listener failed, or a signal came first): nothing was started.
            guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
        }
        let worker = self.worker
        let secondSignal = SecondSignalExit()
        let completion = WorkerCompletion()
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                completion.start(continuation)
                let thread = Thread {
                    do {
                        try worker.run()
                        completion.finish(.success(()))
                    } catch {
                        completion.finish(.failure(error))
                    }
                }
                thread.name = "unwind.worker"
                thread.start()
            }
        } onCancelOrGracefulShutdown: {
            secondSignal.arm()
            worker.requestStop()
            let grace = worker.configuration.shutdownGracePeriod
            let limit = grace + Self.drainMargin
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit.components.seconds * 1000))) {
                completion.finish(.failure(CLIError(
                    description: "the worker did not finish draining within \(limit.components.seconds)s (--grace plus \(Self.drainMargin.components.seconds)s); exiting: the leases of unfinished steps expire by themselves")))
            }
        }
    }
}

/// Resumes the service's continuation once: with the worker thread's outcome, or with the drain watchdog's error,
/// whichever comes first.
final class WorkerCompletion: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, any Error>?>(nil)

    func start(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func finish(_ result: Result<Void, any Error>) {
        let pending = continuation.withLock { value in
            defer { value = nil }
            return value
        }
        pending?.resume(with: result)
    }
}

/// After the first SIGTERM/SIGINT (which the service group turned into a graceful shutdown), the next one exits
/// the process at once with status 1, as `unwind worker --help` promises.
final class SecondSignalExit: Sendable {
    private let sources = Mutex<[any DispatchSourceSignal]>([])

    func arm() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            let queue = DispatchQueue(label: "unwind.signals")
            sources = [SIGTERM, SIGINT].map { number in
                // The group already set SIG_IGN for both; a Dispatch source still sees them.
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    FileHandle.standardError.write(Data("second signal: exiting now; leases of running steps expire by themselves\n".utf8))
                    exit(1)
                }
                source.resume()
                return source
            }
        }
    }

    deinit {
        sources.withLock { $0.forEach { $0.cancel() } }
    }
}

/// Samples the database-derived gauges (queue depth, workflows by state) and the pool gauges every `interval`,
/// until the group shuts down.
struct MetricsSamplerService: Service, CustomStringConvertible {
    let probe: DatabaseProbe
    let pool: PostgresConnectionPool
    let metrics: UnwindMetrics
    let interval: Duration

    var description: String { "metrics sampler" }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await probe.sample(into: metrics, pool: pool)
            // Returns early (cancelled) on graceful shutdown; the loop condition then ends the service.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}
