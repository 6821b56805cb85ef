/// The Huawei Cloud services the teardown talks to.
public enum CloudService: String, Sendable, CaseIterable, Codable {
    case secmaster, bss, ecs, vpcep

    /// Name used in messages ("SecMaster", "BSS", …), as the Huawei console spells it.
    public var displayName: String {
        switch self {
        case .secmaster: "SecMaster"
        case .bss: "BSS"
        case .ecs: "ECS"
        case .vpcep: "VPCEP"
        }
    }
}
