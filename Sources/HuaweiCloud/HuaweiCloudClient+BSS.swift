import Foundation

/// BSS (billing): global endpoint, no project in the path, `X-Domain-Id: <account id>` as the SDKs' global
/// credentials send it. BSS documents some CBC errors with HTTP 200; `send` checks every 2xx body for an error code.
extension HuaweiCloudClient {
    /// BSS accepts at most this many ids per unsubscribe call.
    public static let maxUnsubscribeIDs = 10

    /// `POST /v2/orders/subscriptions/resources/unsubscribe` with `unsubscribe_type: 1` (the resource and its renewals).
    ///
    /// Only primary resources may be named; attached ones go with them. More than 10 ids, or none, is refused before
    /// sending (permanent). `CBC.30000067` / `CBC.3124` come back as `.alreadyDone`.
    public func unsubscribeResources(domainID: String, resourceIDs: [String], reasonType: Int?, reason: String?) async throws(CloudError) -> UnsubscribeResult {
        let operation = "bss.unsubscribe"
        guard !resourceIDs.isEmpty, resourceIDs.count <= Self.maxUnsubscribeIDs else {
            throw CloudError(service: .bss, operation: operation,
                             message: "\(resourceIDs.count) resource ids given; BSS accepts 1 to \(Self.maxUnsubscribeIDs) per call",
                             classification: .permanent, hint: "split the ids into batches of at most \(Self.maxUnsubscribeIDs) (a workflow bug)")
        }
        struct Body: Encodable {
            var resource_ids: [String]
            var unsubscribe_type = 1
            var unsubscribe_reason_type: Int?
            var unsubscribe_reason: String?
        }
        let body = Body(resource_ids: resourceIDs, unsubscribe_reason_type: reasonType, unsubscribe_reason: reason)
        let request = CloudRequest(
            service: .bss, operation: operation, kind: .change, method: "POST",
            path: CloudRequest.path("v2", "orders", "subscriptions", "resources", "unsubscribe"), scope: .domain(domainID),
            body: Self.json(body))
        let response = try await send(request)
        let answer = try decode(WireUnsubscribeAnswer.self, response, request: request)
        // Success names the orders placed; a resource BSS did not take is listed in fail_resource_infos. An answer
        // with neither says nothing about what happened (a proxy's `{}`): read as success, the step sent the request
        // again and again, or took an order BSS had placed for nothing done.
        let refused = Set((answer.fail_resource_infos ?? []).compactMap(\.resource_id))
        if (answer.order_ids ?? []).isEmpty, !resourceIDs.allSatisfy(refused.contains) {
            throw malformed("the unsubscription was answered without order_ids, and without a failure for "
                            + resourceIDs.filter { !refused.contains($0) }.joined(separator: ", "), response: response, request: request)
        }
        return UnsubscribeResult(
            orderIDs: answer.order_ids ?? [],
            failures: (answer.fail_resource_infos ?? []).map {
                UnsubscribeResult.ResourceFailure(resourceID: $0.resource_id ?? "", errorCode: $0.error_code, errorMessage: $0.error_msg)
            })
    }

    /// `POST /v2/orders/suscriptions/resources/query` (sic: the real path is misspelt), all pages.
    /// - Parameters:
    ///   - orderID: only the resources this (purchase) order bought.
    ///   - statusList: only resources in these states (2 in use, 3 closed, 4 frozen, 5 expired); BSS's default leaves
    ///     closed (unsubscribed) ones out.
    public func queryCustomerResources(
        domainID: String, resourceIDs: [String], onlyMainResource: Bool, orderID: String? = nil, statusList: [Int]? = nil
    ) async throws(CloudError) -> [CustomerResource] {
        let pageSize = 100
        let request = CloudRequest(service: .bss, operation: "bss.query_resources", kind: .read, method: "POST",
                                   path: CloudRequest.path("v2", "orders", "suscriptions", "resources", "query"), scope: .domain(domainID))
        struct Body: Encodable {
            var resource_ids: [String]?
            var order_id: String?
            var status_list: [Int]?
            var only_main_resource: Int
            var offset: Int
            var limit: Int
        }
        // The API takes at most 50 ids per query; larger lists are queried in chunks.
        let chunks: [[String]?] = resourceIDs.isEmpty ? [nil] : stride(from: 0, to: resourceIDs.count, by: 50).map {
            Array(resourceIDs[$0..<min($0 + 50, resourceIDs.count)])
        }
        var all: [CustomerResource] = []
        for chunk in chunks {
            all += try await paginate(request, pageSize: pageSize, key: \.resourceID) { (_, offset) async throws(CloudError) -> (items: [CustomerResource], total: Int?) in
                var paged = request
                paged.body = Self.json(Body(resource_ids: chunk, order_id: orderID, status_list: statusList,
                                            only_main_resource: onlyMainResource ? 1 : 0, offset: offset, limit: pageSize))
                let page = try await fetch(WireResourcePage.self, paged)
                return ((page.data ?? []).map(\.model), page.total_count)
            }
        }
        return all
    }

    /// `GET /v2/orders/customer-orders`, all pages, optionally filtered by order type (4 = unsubscribe) and status.
    public func listOrders(domainID: String, orderType: Int?, status: Int?, createdSince: Date? = nil) async throws(CloudError) -> [CustomerOrder] {
        let pageSize = 100
        var request = CloudRequest(service: .bss, operation: "bss.list_orders", kind: .read, method: "GET",
                                   path: CloudRequest.path("v2", "orders", "customer-orders"), scope: .domain(domainID))
        return try await paginate(request, pageSize: pageSize, key: \.orderID) { (_, offset) async throws(CloudError) -> (items: [CustomerOrder], total: Int?) in
            var query: [(String, String)] = [("offset", String(offset)), ("limit", String(pageSize))]
            if let orderType { query.append(("order_type", String(orderType))) }
            if let status { query.append(("status", String(status))) }
            if let createdSince { query.append(("create_time_begin", Self.bssTime(createdSince))) }
            request.query = query
            let page = try await fetch(WireOrderPage.self, request)
            return ((page.order_infos ?? []).map(\.model), page.total_count)
        }
    }

    /// The first page (up to 100, newest first) of the orders created since `createdSince`, of every type and
    /// status, and whether that page holds all of them. One call answers several questions about an account with
    /// a short history; callers fall back to filtered listings when it is not `complete`.
    public func recentOrders(domainID: String, createdSince: Date) async throws(CloudError) -> (orders: [CustomerOrder], complete: Bool) {
        let pageSize = 100
        let page = try await fetch(WireOrderPage.self, CloudRequest(
            service: .bss, operation: "bss.list_orders", kind: .read, method: "GET",
            path: CloudRequest.path("v2", "orders", "customer-orders"),
            query: [("offset", "0"), ("limit", String(pageSize)), ("create_time_begin", Self.bssTime(createdSince)), ("order_by", "-createTime")],
            scope: .domain(domainID)))
        let orders = (page.order_infos ?? []).map(\.model)
        let complete = page.total_count.map { orders.count >= $0 } ?? (orders.count < pageSize)
        return (orders, complete)
    }

    /// BSS's query times: UTC `yyyy-MM-dd'T'HH:mm:ss'Z'`.
    static func bssTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    /// `GET /v2/orders/customer-orders/details/{order_id}`: status and, for unsubscription orders, fee and consumption.
    public func orderDetails(domainID: String, orderID: String) async throws(CloudError) -> OrderDetails {
        let answer = try await fetch(WireOrderDetails.self, CloudRequest(
            service: .bss, operation: "bss.order_details", kind: .read, method: "GET",
            path: CloudRequest.path("v2", "orders", "customer-orders", "details", orderID),
            query: [("offset", "0"), ("limit", "10")], scope: .domain(domainID)))
        let info = answer.order_info
        return OrderDetails(
            orderID: info.order_id, status: info.status.value, orderType: info.order_type?.value,
            commissionAmount: info.amount_info?.commission_amount?.value, consumedAmount: info.amount_info?.consumed_amount?.value,
            amountAfterDiscount: info.amount_after_discount?.value, officialAmount: info.official_amount?.value, currency: info.currency)
    }

    /// `GET /v2/orders/customer-orders/refund-orders?order_id=…`: the refund breakdown of an unsubscription order.
    public func refundOrders(domainID: String, orderID: String) async throws(CloudError) -> [RefundInfo] {
        let answer = try await fetch(WireRefundPage.self, CloudRequest(
            service: .bss, operation: "bss.refund_orders", kind: .read, method: "GET",
            path: CloudRequest.path("v2", "orders", "customer-orders", "refund-orders"),
            query: [("order_id", orderID)], scope: .domain(domainID)))
        return (answer.refund_infos ?? []).map(\.model)
    }

    /// Turns auto-renewal on (`POST`, `AutoRenewalResources`) or off (`DELETE`, `CancelAutoRenewalResources`) for
    /// `/v2/orders/subscriptions/resources/autorenew/{resource_id}`. Per the Go SDK's `GenReqDefForAutoRenewalResources`
    /// the only request field is the path's resource id: no query, no body. Turning it off before unsubscribing
    /// keeps a renewal from being bought while the teardown runs.
    public func setAutoRenew(domainID: String, resourceID: String, enabled: Bool) async throws(CloudError) {
        _ = try await send(CloudRequest(
            service: .bss, operation: enabled ? "bss.autorenew_on" : "bss.autorenew_off", kind: .change,
            method: enabled ? "POST" : "DELETE",
            path: CloudRequest.path("v2", "orders", "subscriptions", "resources", "autorenew", resourceID),
            scope: .domain(domainID)))
    }
}

// MARK: Wire format

struct WireUnsubscribeAnswer: Decodable {
    var order_ids: [String]?
    var fail_resource_infos: [WireFailure]?

    struct WireFailure: Decodable {
        var resource_id: String?
        var error_code: String?
        var error_msg: String?
    }
}

struct WireResourcePage: Decodable {
    var total_count: Int?
    var data: [WireCustomerResource]?
}

struct WireCustomerResource: Decodable {
    var resource_id: String
    var resource_name: String?
    var status: FlexibleInt
    var expire_time: String?
    var effective_time: String?
    var is_main_resource: FlexibleInt?
    var parent_resource_id: String?
    var service_type_code: String?
    var resource_type_code: String?
    var expire_policy: FlexibleInt?
    var region_code: String?
    var project_id: String?

    var model: CustomerResource {
        CustomerResource(
            resourceID: resource_id, resourceName: resource_name, status: status.value, expireTime: expire_time, effectiveTime: effective_time,
            // Absent means main: attached resources always carry is_main_resource = 0 and a parent.
            isMainResource: (is_main_resource?.value ?? 1) == 1, parentResourceID: parent_resource_id.flatMap { $0.isEmpty ? nil : $0 },
            serviceTypeCode: service_type_code ?? "", resourceTypeCode: resource_type_code ?? "", expirePolicy: expire_policy?.value,
            regionCode: region_code, projectID: project_id)
    }
}

struct WireOrderPage: Decodable {
    var total_count: Int?
    var order_infos: [WireOrder]?
}

struct WireOrder: Decodable {
    var order_id: String
    var status: FlexibleInt
    var order_type: FlexibleInt
    var service_type_code: String?
    var create_time: String?
    var amount_after_discount: FlexibleDecimal?
    var amount_info: WireOrderDetails.WireAmountInfo?

    var model: CustomerOrder {
        CustomerOrder(orderID: order_id, status: status.value, orderType: order_type.value, serviceTypeCode: service_type_code,
                      createTime: create_time, amountAfterDiscount: amount_after_discount?.value,
                      commissionAmount: amount_info?.commission_amount?.value, consumedAmount: amount_info?.consumed_amount?.value)
    }
}

struct WireOrderDetails: Decodable {
    var order_info: WireOrderInfo

    struct WireOrderInfo: Decodable {
        var order_id: String
        var status: FlexibleInt
        var order_type: FlexibleInt?
        var amount_after_discount: FlexibleDecimal?
        var official_amount: FlexibleDecimal?
        var currency: String?
        var amount_info: WireAmountInfo?
    }

    struct WireAmountInfo: Decodable {
        var commission_amount: FlexibleDecimal?
        var consumed_amount: FlexibleDecimal?
    }
}

struct WireRefundPage: Decodable {
    var refund_infos: [WireRefund]?
}

struct WireRefund: Decodable {
    var id: String?
    var amount: FlexibleDecimal
    var base_order_id: String?
    var resource_type_code: String?
    var service_type_code: String?
    var region_code: String?
    var measure_id: FlexibleInt?

    var model: RefundInfo {
        RefundInfo(id: id, amount: amount.value, baseOrderID: base_order_id, resourceTypeCode: resource_type_code,
                   serviceTypeCode: service_type_code, regionCode: region_code, measureID: measure_id?.value)
    }
}
