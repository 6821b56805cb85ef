import Dispatch

/// Runs blocking work (the store talks to PostgreSQL through libpq, synchronously) off the server's event loops
/// and the cooperative pool, on Dispatch's global queue, which adds threads while others block.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
