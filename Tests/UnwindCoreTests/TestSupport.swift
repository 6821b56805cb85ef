import Foundation
import UnwindCore

/// Actions the test definitions may use.
let knownActions: Set<String> = [
    "test.noop", "test.sleep", "test.fail",
    "orders.reserve", "orders.release", "payments.charge", "payments.refund", "orders.ship", "orders.plan",
]

/// Loads `yaml` as `workflows/<file>` and returns the error, or `nil` when it loaded.
func loadError(_ yaml: String, file: String = "workflows/orders.yaml", actions: Set<String> = knownActions) -> DefinitionError? {
    do {
        _ = try WorkflowDefinitionLoader.load(yaml: yaml, file: file, knownActions: actions)
        return nil
    } catch {
        return error
    }
}

/// A scratch directory removed when the returned closure is called.
func makeTemporaryDirectory() throws -> (path: String, remove: () -> Void) {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("unwind-core-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return (url.path, { try? FileManager.default.removeItem(at: url) })
}
