/// Every cloud operation the simulator serves, with its service, HTTP method and path template.
///
/// The `name` (`ecs.delete_servers`, …) is what the ledger, rate limits and fault rules refer to.
public enum CloudAPI: String, Sendable, CaseIterable {
    case bssUnsubscribe = "bss.unsubscribe"
    case bssQueryResources = "bss.query_resources"
    case bssListOrders = "bss.list_orders"
    case bssOrderDetails = "bss.order_details"
    case bssRefundOrders = "bss.refund_orders"
    case bssAutoRenewOn = "bss.autorenew_on"
    case bssAutoRenewOff = "bss.autorenew_off"
    case ecsDeleteServers = "ecs.delete_servers"
    case ecsShowJob = "ecs.show_job"
    case ecsListServers = "ecs.list_servers"
    case ecsShowServer = "ecs.show_server"
    case vpcepDeleteEndpoint = "vpcep.delete_endpoint"
    case vpcepShowEndpoint = "vpcep.show_endpoint"
    case vpcepListEndpoints = "vpcep.list_endpoints"
    case secmasterListSubscriptionOrders = "secmaster.list_subscription_orders"
    case secmasterDeleteSubscriptionOrder = "secmaster.delete_subscription_order"
    case secmasterListWorkspaces = "secmaster.list_workspaces"
    case secmasterListNodes = "secmaster.list_nodes"
    case secmasterDeleteNodes = "secmaster.delete_nodes"

    public enum Service: String, Sendable {
        case bss, ecs, vpcep, secmaster
    }

    public var name: String { rawValue }

    public var service: Service {
        switch self {
        case .bssUnsubscribe, .bssQueryResources, .bssListOrders, .bssOrderDetails, .bssRefundOrders, .bssAutoRenewOn, .bssAutoRenewOff: .bss
        case .ecsDeleteServers, .ecsShowJob, .ecsListServers, .ecsShowServer: .ecs
        case .vpcepDeleteEndpoint, .vpcepShowEndpoint, .vpcepListEndpoints: .vpcep
        case .secmasterListSubscriptionOrders, .secmasterDeleteSubscriptionOrder, .secmasterListWorkspaces, .secmasterListNodes, .secmasterDeleteNodes: .secmaster
        }
    }

    /// Whether the call can change state (and so is recorded in the ledger). The BSS resource query is a POST
    /// but only reads.
    public var isMutating: Bool {
        switch self {
        case .bssUnsubscribe, .bssAutoRenewOn, .bssAutoRenewOff, .ecsDeleteServers, .vpcepDeleteEndpoint,
             .secmasterDeleteSubscriptionOrder, .secmasterDeleteNodes: true
        default: false
        }
    }

    public var method: String {
        switch self {
        case .bssUnsubscribe, .bssQueryResources, .bssAutoRenewOn, .ecsDeleteServers: "POST"
        case .bssAutoRenewOff, .vpcepDeleteEndpoint, .secmasterDeleteSubscriptionOrder, .secmasterDeleteNodes: "DELETE"
        default: "GET"
        }
    }

    /// Path template; `{name}` segments are parameters. BSS paths are global (no project).
    public var template: String {
        switch self {
        case .bssUnsubscribe: "/v2/orders/subscriptions/resources/unsubscribe"
        case .bssQueryResources: "/v2/orders/suscriptions/resources/query"  // sic: the real path is misspelt
        case .bssListOrders: "/v2/orders/customer-orders"
        case .bssOrderDetails: "/v2/orders/customer-orders/details/{order_id}"
        case .bssRefundOrders: "/v2/orders/customer-orders/refund-orders"
        case .bssAutoRenewOn, .bssAutoRenewOff: "/v2/orders/subscriptions/resources/autorenew/{resource_id}"
        case .ecsDeleteServers: "/v1/{project_id}/cloudservers/delete"
        case .ecsShowJob: "/v1/{project_id}/jobs/{job_id}"
        case .ecsListServers: "/v1/{project_id}/cloudservers/detail"
        case .ecsShowServer: "/v1/{project_id}/cloudservers/{server_id}"
        case .vpcepDeleteEndpoint, .vpcepShowEndpoint: "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}"
        case .vpcepListEndpoints: "/v1/{project_id}/vpc-endpoints"
        case .secmasterListSubscriptionOrders, .secmasterDeleteSubscriptionOrder: "/v1/{project_id}/subscriptions/orders"
        case .secmasterListWorkspaces: "/v1/{project_id}/workspaces"
        case .secmasterListNodes, .secmasterDeleteNodes: "/v1/{project_id}/workspaces/{workspace_id}/nodes"
        }
    }

    /// Shape of this service's error bodies.
    public var errorShape: CloudError.Shape { service == .ecs ? .nested : .flat }
}
