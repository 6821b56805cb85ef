import Foundation
import Postgres
import Testing
import UnwindCore
import UnwindStore
import UnwindTesting

@Suite("Claim query plan", .enabled(if: TestEnvironment.hasDatabase))
struct ClaimPlanTests {
    /// Finished steps never enter the partial index the claim walks, so history does not slow claiming.
    @Test func theClaimWalksThePartialIndexOfClaimableStepsOnly() async throws {
        let engine = try EngineHarness()
        let connection = try engine.database.connect()
        // 20,000 finished workflows' worth of steps, then a handful of ready ones.
        try connection.executeScript("""
            INSERT INTO workflow_definitions (name, content_hash, source, compiled) VALUES ('x', 'h', '', '{}');
            INSERT INTO workflows (id, definition_id, workflow_name, state, input, submitted_by, finished_at)
              SELECT gen_random_uuid(), 1, 'x', 'succeeded', '{}', 't', now() FROM generate_series(1, 20000);
            INSERT INTO steps (workflow_id, step_id, ordinal, action, state, idempotency_key)
              SELECT id, 's', 0, 'test.noop', 'succeeded', id::text FROM workflows;
            UPDATE steps SET state = 'ready' WHERE workflow_id IN (SELECT id FROM workflows LIMIT 5);
            ANALYZE steps;
            """, name: "fill")
        let plan = try connection.query("""
            EXPLAIN SELECT workflow_id, step_id FROM steps
            WHERE state IN ('ready', 'waiting') AND queue = ANY('{default}'::text[]) AND due_at <= now()
            ORDER BY priority DESC, due_at LIMIT 8 FOR UPDATE SKIP LOCKED
            """, name: "explain_claim").rows.map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        #expect(plan.contains("steps_claimable"), "\(plan)")
        #expect(!plan.contains("Seq Scan"), "\(plan)")
    }
}
