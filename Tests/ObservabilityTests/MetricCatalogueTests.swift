import Foundation
import MetricsTestKit
import Testing
import UnwindObservability
import UnwindTesting

@Suite("Metric catalogue")
struct MetricCatalogueTests {
    /// The names and labels README.md and the shared contract promise, in one place.
    static let contract: [String: [String]] = [
        "unwind_steps_started_total": ["workflow", "step", "phase"],
        "unwind_steps_completed_total": ["workflow", "step", "phase"],
        "unwind_steps_failed_total": ["workflow", "step", "phase", "retryable"],
        "unwind_steps_retried_total": ["workflow", "step"],
        "unwind_step_duration_seconds": ["workflow", "step", "phase"],
        "unwind_claim_duration_seconds": [],
        "unwind_ready_steps": [],
        "unwind_oldest_ready_step_age_seconds": [],
        "unwind_leases_expired_total": [],
        "unwind_steps_rescued_total": [],
        "unwind_compensations_total": ["workflow", "step"],
        "unwind_workflows": ["state"],
        "unwind_db_pool_connections": ["state"],
        "unwind_cloud_requests_total": ["service", "operation", "status"],
        "unwind_cloud_request_duration_seconds": ["service", "operation"],
    ]

    @Test func theCatalogueIsExactlyTheContract() {
        let catalogue = Dictionary(uniqueKeysWithValues: MetricDefinition.all.map { ($0.name, $0.labels) })
        #expect(catalogue == Self.contract)
        #expect(MetricDefinition.all.allSatisfy { !$0.help.isEmpty })
        #expect(MetricDefinition.all.filter { $0.kind == .histogram }.allSatisfy { $0.buckets == $0.buckets.sorted() && !$0.buckets.isEmpty })
        #expect(MetricDefinition.all.filter { $0.kind == .counter }.allSatisfy { $0.name.hasSuffix("_total") })
    }

    @Test func everyMetricIsDocumented() throws {
        let docs = try String(contentsOfFile: TestEnvironment.repositoryRoot + "/README.md", encoding: .utf8)
        for metric in MetricDefinition.all {
            #expect(docs.contains("`\(metric.name)`"), "README.md does not document \(metric.name)")
            for label in metric.labels {
                #expect(docs.contains("`\(label)`"), "README.md does not mention the label \(label)")
            }
        }
    }

    @Test func labelValuesGoWithTheirNames() throws {
        let testMetrics = TestMetrics()
        let metrics = UnwindMetrics(factory: testMetrics)
        metrics.stepFinished(workflow: "w", step: "s", phase: "compensate", succeeded: true, duration: .milliseconds(3))
        metrics.stepFinished(workflow: "w", step: "s", phase: "forward", succeeded: false, retryable: true, willRetry: true, duration: .milliseconds(1))
        metrics.stepFinished(workflow: "w", step: "s", phase: "forward", succeeded: nil, duration: .milliseconds(1))
        #expect(testMetrics.counterTotal(label: "unwind_steps_completed_total", dimensions: [("workflow", "w"), ("step", "s"), ("phase", "compensate")]) == 1)
        #expect(testMetrics.counterTotal(label: "unwind_compensations_total", dimensions: [("workflow", "w"), ("step", "s")]) == 1)
        #expect(testMetrics.counterTotal(label: "unwind_steps_failed_total", dimensions: [("workflow", "w"), ("step", "s"), ("phase", "forward"), ("retryable", "true")]) == 1)
        #expect(testMetrics.counterTotal(label: "unwind_steps_retried_total", dimensions: [("workflow", "w"), ("step", "s")]) == 1)
        let forward = try testMetrics.expectTimer("unwind_step_duration_seconds", [("workflow", "w"), ("step", "s"), ("phase", "forward")])
        #expect(forward.values == [1_000_000, 1_000_000], "a durable wait records its duration, not an outcome")
    }
}
