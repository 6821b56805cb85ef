public struct SecMasterWorkspace: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var projectID: String?
    public var regionID: String?

    public init(id: String, name: String, projectID: String? = nil, regionID: String? = nil) {
        self.id = id
        self.name = name
        self.projectID = projectID
        self.regionID = regionID
    }
}
