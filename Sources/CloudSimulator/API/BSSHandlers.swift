import Foundation

/// BSS (billing) endpoints: global, no project in the path.
enum BSSHandlers {
    static func handle(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date) throws(CloudError) -> APIResult {
        switch request.api {
        case .bssUnsubscribe:
            let ids = try request.bodyStrings("resource_ids", required: true) ?? []
            guard let typeValue = try request.bodyInt("unsubscribe_type") else { throw request.parameterError("unsubscribe_type is required") }
            guard let type = CloudState.UnsubscribeType(rawValue: typeValue) else { throw request.parameterError("unsubscribe_type must be 1 or 2") }
            if let reason = try request.bodyInt("unsubscribe_reason_type"), !(1...5).contains(reason) {
                throw request.parameterError("unsubscribe_reason_type must be 1 to 5")
            }
            let mutation = try state.unsubscribe(account: a, resourceIDs: ids, type: type, now: now)
            var body: [(String, JSON)] = [("order_ids", .array(mutation.references.map(JSON.string)))]
            if !mutation.partialFailures.isEmpty {
                body.append(("fail_resource_infos", .array(mutation.partialFailures.map {
                    ["error_code": .string($0.error.code), "error_msg": .string($0.error.message), "resource_id": .string($0.resourceID)]
                })))
            }
            return APIResult(status: 200, body: .object(body), mutation: mutation)

        case .bssAutoRenewOn, .bssAutoRenewOff:
            let mutation = try state.setAutoRenew(account: a, resourceID: request.parameter("resource_id"), enabled: request.api == .bssAutoRenewOn, now: now)
            return APIResult(status: 204, body: nil, mutation: mutation)

        case .bssQueryResources:
            return APIResult(status: 200, body: try queryResources(request, state: &state, account: a, now: now))

        case .bssListOrders:
            return APIResult(status: 200, body: try listOrders(request, state: &state, account: a, now: now))

        case .bssOrderDetails:
            state.advance(account: a, to: now)
            let id = request.parameter("order_id")
            guard let order = state.accounts[a].orders.first(where: { $0.orderID == id }) else {
                throw state.bssParameterError("order \(id) does not exist")
            }
            let offset = try request.queryCount("offset") ?? 0
            let limit = try request.queryCount("limit") ?? 10
            let resources = state.accounts[a].prepaidResources.filter { order.resourceIDs.contains($0.resourceID) }
            let items = page(resources, offset: offset, limit: limit).map { lineItem($0, order: order, state: state) }
            return APIResult(status: 200, body: [
                "total_count": .int(Int64(resources.count)),
                "order_info": orderV3(order, account: state.accounts[a], state: state, now: now),
                "order_line_items": .array(items),
            ])

        case .bssRefundOrders:
            state.advance(account: a, to: now)
            guard let id = request.queryValue("order_id") else { throw request.parameterError("order_id is required") }
            guard let order = state.accounts[a].orders.first(where: { $0.orderID == id }) else {
                throw state.bssParameterError("order \(id) does not exist")
            }
            let domainID = state.accounts[a].domainID
            return APIResult(status: 200, body: [
                "total_count": .int(Int64(order.refundLines.count)),
                "refund_infos": .array(order.refundLines.map { line in
                    [
                        "id": .string(line.id), "amount": .money(line.amountCents), "measure_id": "1", "customer_id": .string(domainID),
                        "resource_type_code": .string(line.resourceTypeCode), "service_type_code": .string(line.serviceTypeCode),
                        "resource_type_name": .string(line.resourceTypeCode), "service_type_name": .string(line.serviceTypeCode),
                        "region_code": .string(line.regionCode), "base_order_id": .string(line.baseOrderID),
                    ]
                }),
            ])

        default:
            throw CloudError.apiNotFound(method: request.api.method, path: request.api.template)
        }
    }

    private static func queryResources(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date) throws(CloudError) -> JSON {
        state.advance(account: a, to: now)
        let ids = try request.bodyStrings("resource_ids", required: false)
        if let ids, ids.count > 50 { throw request.parameterError("at most 50 resource_ids") }
        var statusList: [Int]?
        if let list = try request.bodyObject()["status_list"], list != .null {
            guard let items = list.arrayValue, let ints = Optional(items.compactMap(\.intValue)), ints.count == items.count else {
                throw request.parameterError("status_list must be an array of integers (2 in use, 3 closed, 4 frozen, 5 expired)")
            }
            statusList = ints.map { Int($0) }
        }
        let onlyMain = try request.bodyInt("only_main_resource") ?? 0
        guard onlyMain == 0 || onlyMain == 1 else { throw request.parameterError("only_main_resource must be 0 or 1, got \(onlyMain)") }
        let orderID = try request.bodyObject()["order_id"]?.stringValue
        let serviceType = try request.bodyObject()["service_type_code"]?.stringValue
        let expireBegin = try request.bodyTime("expire_time_begin")
        let expireEnd = try request.bodyTime("expire_time_end")
        let offset = try request.bodyCount("offset") ?? 0
        let limit = try request.bodyCount("limit") ?? 10
        let account = state.accounts[a]
        let matching = account.prepaidResources.filter { resource in
            if let ids, !ids.contains(resource.resourceID) { return false }
            // Closed resources are hidden unless asked for explicitly (choice: the real default is undocumented).
            if let statusList { if !statusList.contains(resource.status.rawValue) { return false } } else if resource.status == .closed { return false }
            if onlyMain == 1, !resource.isMain { return false }
            if let orderID, resource.baseOrderID != orderID, resource.unsubscribeOrderID != orderID { return false }
            if let serviceType, resource.serviceTypeCode != serviceType { return false }
            if let expireBegin, resource.expireAt < expireBegin { return false }
            if let expireEnd, resource.expireAt > expireEnd { return false }
            return true
        }
        return [
            "total_count": .int(Int64(matching.count)),
            "data": .array(page(matching, offset: offset, limit: limit).map { resource in
                [
                    "id": .string(resource.instanceID), "resource_id": .string(resource.resourceID), "resource_name": .string(resource.name),
                    "region_code": .string(resource.regionCode), "service_type_code": .string(resource.serviceTypeCode),
                    "resource_type_code": .string(resource.resourceTypeCode), "resource_type_name": .string(resource.resourceTypeCode),
                    "service_type_name": .string(resource.serviceTypeCode), "resource_spec_code": .string(resource.resourceTypeCode + ".spec"),
                    "project_id": .string(resource.projectID), "product_id": .string("sim-product-" + resource.resourceTypeCode),
                    "parent_resource_id": .optional(resource.parentResourceID), "is_main_resource": .int(resource.isMain ? 1 : 0),
                    "status": .int(Int64(resource.status.rawValue)), "effective_time": .string(ISOTime.format(resource.effectiveAt)),
                    "expire_time": .string(ISOTime.format(resource.expireAt)), "expire_policy": .int(resource.autoRenew ? 3 : 0),
                    "product_spec_desc": .string("\(resource.termMonths) month(s)"), "update_time": .string(ISOTime.format(resource.effectiveAt)),
                ]
            }),
        ]
    }

    private static func listOrders(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date) throws(CloudError) -> JSON {
        state.advance(account: a, to: now)
        let settings = state.settings
        let orderID = request.queryValue("order_id")
        let status = try request.queryInt("status")
        let orderType = try request.queryInt("order_type")
        let serviceType = request.queryValue("service_type_code")
        let begin = try request.queryTime("create_time_begin")
        let end = try request.queryTime("create_time_end")
        let offset = try request.queryCount("offset") ?? 0
        let limit = try request.queryCount("limit") ?? 10
        // Case-insensitive, and empty is no ordering asked for (the SDK's documentation of the real API).
        let orderBy = (request.queryFilter("order_by") ?? "-createTime").lowercased()
        guard ["createtime", "-createtime"].contains(orderBy) else {
            throw request.parameterError("order_by must be createTime or -createTime (any case), got '\(request.queryValue("order_by") ?? "")'")
        }
        let ascending = orderBy == "createtime"
        // Paid when created (pending-payment orders have no payment time and match no payment-time filter).
        let paidBegin = try request.queryTime("payment_time_begin")
        let paidEnd = try request.queryTime("payment_time_end")
        let account = state.accounts[a]
        let matching = account.orders.filter { order in
            if let orderID, order.orderID != orderID { return false }
            let orderStatus = order.status(at: now, settings: settings)
            if let status, orderStatus.rawValue != status { return false }
            if let orderType, order.kind.rawValue != orderType { return false }
            if let serviceType, order.serviceTypeCode != serviceType { return false }
            if let begin, order.createdAt < begin { return false }
            if let end, order.createdAt > end { return false }
            if paidBegin != nil || paidEnd != nil {
                if orderStatus == .pendingPayment { return false }
                if let paidBegin, order.createdAt < paidBegin { return false }
                if let paidEnd, order.createdAt > paidEnd { return false }
            }
            return true
        }
        .sorted { ascending ? $0.createdAt < $1.createdAt : $0.createdAt > $1.createdAt }
        return [
            "total_count": .int(Int64(matching.count)),
            "order_infos": .array(page(matching, offset: offset, limit: limit).map { orderV2($0, account: account, settings: settings, now: now) }),
        ]
    }

    static func amountInfo(_ order: Order) -> JSON {
        [
            "discounts": [], "flexipurchase_coupon_amount": 0, "coupon_amount": 0, "stored_card_amount": 0,
            "commission_amount": .money(order.commissionCents), "consumed_amount": .money(order.consumedCents),
        ]
    }

    static func orderV2(_ order: Order, account: Account, settings: SimulatorSettings, now: Date) -> JSON {
        let status = order.status(at: now, settings: settings)
        return [
            "order_id": .string(order.orderID), "customer_id": .string(account.domainID),
            "service_type_code": .string(order.serviceTypeCode), "service_type_name": .string(order.serviceTypeCode),
            "source_type": 1, "status": .int(Int64(status.rawValue)), "order_type": .int(Int64(order.kind.rawValue)),
            "amount_after_discount": .money(order.amountCents), "official_amount": .money(order.amountCents), "measure_id": 1,
            "create_time": .string(ISOTime.format(order.createdAt)),
            "payment_time": status == .pendingPayment ? .null : .string(ISOTime.format(order.createdAt)),
            "currency": "CNY", "amount_info": amountInfo(order),
        ]
    }

    static func orderV3(_ order: Order, account: Account, state: CloudState, now: Date) -> JSON {
        guard case .object(var fields) = orderV2(order, account: account, settings: state.settings, now: now) else { return .null }
        fields.append(("user_name", .string(account.domainName)))
        return .object(fields)
    }

    static func lineItem(_ resource: PrepaidResource, order: Order, state: CloudState) -> JSON {
        let cents = order.kind == .unsubscribe
            ? -order.refundLines.filter { $0.resourceID == resource.resourceID && $0.amountCents <= 0 }.reduce(0) { $0 + $1.amountCents }
            : resource.paidCents
        return [
            "order_line_item_id": .string(order.orderID + "-" + resource.resourceID), "service_type_code": .string(resource.serviceTypeCode),
            "service_type_name": .string(resource.serviceTypeCode), "product_id": .string("sim-product-" + resource.resourceTypeCode),
            "product_spec_desc": .string("\(resource.termMonths) month(s)"), "period_type": .int(resource.termMonths % 12 == 0 ? 3 : 2),
            "period_num": .int(Int64(resource.termMonths % 12 == 0 ? resource.termMonths / 12 : resource.termMonths)),
            "effective_time": .string(ISOTime.format(resource.effectiveAt)), "expire_time": .string(ISOTime.format(resource.expireAt)),
            "subscription_num": 1, "amount_after_discount": .money(cents), "official_amount": .money(cents), "currency": "CNY",
            "order_id": .string(order.orderID),
        ]
    }
}
