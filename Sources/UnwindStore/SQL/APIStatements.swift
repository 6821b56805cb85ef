extension SQL {
    /// Reads only the HTTP API and dashboard (`unwind serve`) need; everything else reuses ``SQL/Engine``.
    enum API {
        /// Workflows per state, optionally of one definition (the dashboard's filter counts).
        static let workflowCounts = Statement("api_workflow_counts", """
            SELECT state, count(*) AS workflows
            FROM workflows
            WHERE ($1::text IS NULL OR workflow_name = $1)
            GROUP BY state
            """)
    }
}
