extension SimulatorSettings {
    /// The effective settings, with the seed's key names, for `/_sim/state`.
    var json: JSON {
        [
            "order_processing_seconds": .double(orderProcessingSeconds), "order_refund_seconds": .double(orderRefundSeconds),
            "ecs_job_init_seconds": .double(ecsJobInitSeconds), "ecs_job_run_seconds_min": .double(ecsJobRunSecondsMin),
            "ecs_job_run_seconds_max": .double(ecsJobRunSecondsMax), "server_linger_seconds": .double(serverLingerSeconds),
            "job_purge_seconds": .double(jobPurgeSeconds), "expired_retention_days": .double(expiredRetentionDays), "vpcep_deleting_seconds": .double(vpcepDeletingSeconds),
            "vpcep_delete_status": .int(Int64(vpcepDeleteStatus)), "max_skew_seconds": .int(maxSkewSeconds),
            "signature_clock": .string(signatureClock.rawValue), "replay_protection": .string(replayProtection.rawValue),
            "full_refund_window_days": .double(fullRefundWindowDays), "full_refunds_per_year": .int(Int64(fullRefundsPerYear)),
            "fee_base": .string(feeBase.rawValue), "bss_error_status": .int(Int64(bssErrorStatus)),
            "already_unsubscribed_code": .string(alreadyUnsubscribedCode), "in_flight_code": .string(inFlightCode),
            "bss_parameter_error_code": .string(bssParameterErrorCode), "package_rule_status": .int(Int64(packageRuleStatus)),
            "package_rule_code": .string(packageRuleCode), "secmaster_not_found_code": .string(secmasterNotFoundCode),
            "secmaster_prepaid_code": .string(secmasterPrepaidCode), "ecs_prepaid_delete": .string(ecsPrepaidDelete.rawValue),
            "ecs_prepaid_code": .string(ecsPrepaidCode),
            "rate_limits": .object([("default", .int(Int64(rateLimitPerMinute)))] + rateLimitPerAPI.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }),
            "random_seed": .int(Int64(bitPattern: randomSeed)), "timeout_cap_seconds": .double(timeoutCapSeconds),
        ]
    }
}
