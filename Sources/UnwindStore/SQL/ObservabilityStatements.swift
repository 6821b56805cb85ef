extension SQL {
    /// Statements behind the sampled metrics (queue depth, workflows by state) and the readiness probe.
    /// They run every few seconds from every worker, so each is one cheap aggregate.
    enum Observability {
        /// Steps that could be claimed now on any queue (ready, or a durable wait that is due), and how long
        /// the longest-waiting of them has been due. Served by the partial index `steps_claimable`.
        static let queueDepth = Statement("observability_queue_depth", """
            SELECT count(*) AS ready,
                   COALESCE(EXTRACT(EPOCH FROM now() - min(due_at)), 0)::float8 AS oldest_age_seconds
            FROM steps
            WHERE state IN ('ready', 'waiting') AND due_at <= now()
            """)

        /// Workflows by state (served by the index `workflows_by_state`).
        static let workflowsByState = Statement("observability_workflows_by_state", """
            SELECT state, count(*) AS count FROM workflows GROUP BY state
            """)
    }
}
