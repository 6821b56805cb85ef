import Foundation
import Testing

/// deploy/kubernetes: every manifest parses (multi-document) and carries what operators rely on. There is no
/// cluster and no schema validator here, so these are structural checks of the properties the README promises.
@Suite("Kubernetes manifests")
struct KubernetesManifestTests {
    static let directory = "deploy/kubernetes"

    /// Every object of every manifest, with the file it came from (kustomization.yaml is not an object).
    func objects() throws -> [(file: String, object: YAMLValue)] {
        try DeployFiles.yamlFiles()
            .filter { $0.hasPrefix(Self.directory + "/") && !$0.hasSuffix("/kustomization.yaml") }
            .flatMap { file in try DeployFiles.documents(file).map { (file: file, object: YAMLValue($0)) } }
    }

    func objects(kind: String) throws -> [(file: String, object: YAMLValue)] {
        try objects().filter { $0.object["kind"].string == kind }
    }

    func named(_ kind: String, _ name: String) throws -> YAMLValue {
        try #require(try objects(kind: kind).first { $0.object["metadata"]["name"].string == name }?.object,
                     "no \(kind) named \(name) in \(Self.directory)")
    }

    @Test func everyObjectHasAPIVersionKindNameAndTheNamespace() throws {
        let all = try objects()
        #expect(all.count >= 9, "expected the whole set of manifests, found \(all.count) objects")
        for (file, object) in all {
            #expect(object["apiVersion"].string?.isEmpty == false, "\(file): an object without apiVersion")
            #expect(object["kind"].string?.isEmpty == false, "\(file): an object without kind")
            let name = object["metadata"]["name"].string ?? ""
            #expect(!name.isEmpty, "\(file): a \(object["kind"]) without metadata.name")
            if object["kind"].string != "Namespace" {
                #expect(object["metadata"]["namespace"].string == "unwind", "\(file): \(name) is not in namespace unwind")
            }
        }
    }

    @Test func theExpectedObjectsExist() throws {
        let kinds = Set(try objects().map { "\($0.object["kind"].string ?? "")/\($0.object["metadata"]["name"].string ?? "")" })
        for expected in ["Namespace/unwind", "ConfigMap/unwind-config", "Secret/unwind-secrets", "Job/unwind-migrate",
                         "Deployment/unwind-worker", "Deployment/unwind-serve", "Service/unwind-serve",
                         "PodDisruptionBudget/unwind-worker", "PodDisruptionBudget/unwind-serve"] {
            #expect(kinds.contains(expected), "missing \(expected); found \(kinds.sorted())")
        }
    }

    /// The pod template of a Deployment or Job.
    func podSpecs() throws -> [(file: String, name: String, kind: String, pod: YAMLValue, labels: [String: String])] {
        try objects().compactMap { file, object in
            guard let kind = object["kind"].string, ["Deployment", "Job"].contains(kind) else { return nil }
            let template = object["spec"]["template"]
            let labels = template["metadata"]["labels"].map.compactMapValues(\.string)
            return (file: file, name: object["metadata"]["name"].string ?? "", kind: kind, pod: template["spec"], labels: labels)
        }
    }

    @Test func everyPodIsLockedDown() throws {
        let pods = try podSpecs()
        #expect(pods.count == 3, "the migration Job and two Deployments")
        for (file, name, _, pod, _) in pods {
            let podSecurity = pod["securityContext"]
            #expect(podSecurity["runAsNonRoot"].bool == true, "\(file) \(name): runAsNonRoot")
            #expect((podSecurity["runAsUser"].int ?? 0) > 0, "\(file) \(name): runAsUser must be a non-zero uid")
            #expect(podSecurity["seccompProfile"]["type"].string == "RuntimeDefault", "\(file) \(name): seccomp RuntimeDefault")
            #expect(pod["automountServiceAccountToken"].bool == false, "\(file) \(name): Unwind never calls the Kubernetes API")
            let containers = pod["containers"].list + pod["initContainers"].list
            #expect(!containers.isEmpty, "\(file) \(name): no containers")
            for container in containers {
                let label = "\(file) \(name)/\(container["name"])"
                let security = container["securityContext"]
                #expect(security["readOnlyRootFilesystem"].bool == true, "\(label): readOnlyRootFilesystem")
                #expect(security["allowPrivilegeEscalation"].bool == false, "\(label): allowPrivilegeEscalation false")
                #expect(security["capabilities"]["drop"].strings.contains("ALL"), "\(label): drop ALL capabilities")
                #expect(security["privileged"].bool != true, "\(label): privileged")
                for part in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        #expect(container["resources"][part][resource].string?.isEmpty == false, "\(label): resources.\(part).\(resource)")
                    }
                }
                for variable in container["env"].list {
                    let variableName = variable["name"].string ?? ""
                    if looksLikeSecretName(variableName) {
                        #expect(variable["value"].exists == false, "\(label): \(variableName) carries a secret inline; use a file from the Secret")
                    }
                    if let value = variable["value"].string {
                        #expect(!urlCarriesPassword(value), "\(label): \(variableName) has a password in its URL")
                    }
                }
            }
        }
    }

    /// Liveness on /healthz, readiness on /readyz, on a port the container declares.
    @Test(arguments: ["unwind-worker", "unwind-serve"])
    func probes(deployment name: String) throws {
        let deployment = try named("Deployment", name)
        let container = try #require(deployment["spec"]["template"]["spec"]["containers"].list.first)
        let ports = container["ports"].list
        let declared = Set(ports.compactMap { $0["name"].string } + ports.compactMap { $0["containerPort"].string })
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let http = container[probe]["httpGet"]
            #expect(http["path"].string == path, "\(name): \(probe) must GET \(path)")
            let port = try #require(http["port"].string, "\(name): \(probe) has no port")
            #expect(declared.contains(port), "\(name): \(probe) port \(port) is not a declared container port (\(declared.sorted()))")
        }
        #expect(deployment["spec"]["selector"]["matchLabels"].map.allSatisfy { key, value in
            deployment["spec"]["template"]["metadata"]["labels"][key].string == value.string
        }, "\(name): the selector must match the pod template's labels")
    }

    /// A pod being stopped gets SIGTERM and drains for --grace: Kubernetes must not SIGKILL it before that.
    @Test func theWorkerDrainsWithinItsTerminationGracePeriod() throws {
        let deployment = try named("Deployment", "unwind-worker")
        let pod = deployment["spec"]["template"]["spec"]
        let container = try #require(pod["containers"].list.first)
        let arguments = container["args"].strings
        #expect(arguments.first == "worker", "the worker Deployment runs `unwind worker`: \(arguments)")
        let grace = try #require(flagValue("--grace", in: arguments).flatMap(durationSeconds), "set --grace explicitly: \(arguments)")
        let period = try #require(pod["terminationGracePeriodSeconds"].int, "terminationGracePeriodSeconds")
        #expect(Double(period) > grace + 5, "terminationGracePeriodSeconds \(period) must exceed --grace \(grace)s with room to hand back leases")
        #expect(flagValue("--metrics-port", in: arguments) != nil, "the worker needs its metrics port for the probes: \(arguments)")
        #expect(flagValue("--metrics-host", in: arguments) == "0.0.0.0", "probes and Prometheus reach the pod IP, not loopback")
        #expect(arguments.contains("--worker-id"), "name workers after their pod")
        #expect(container["lifecycle"]["preStop"].exists == false, "SIGTERM drains; a preStop hook only delays it")
    }

    @Test func theServerListensOnThePodAndItsServiceSelectsIt() throws {
        let deployment = try named("Deployment", "unwind-serve")
        let container = try #require(deployment["spec"]["template"]["spec"]["containers"].list.first)
        let arguments = container["args"].strings
        #expect(arguments.first == "serve")
        #expect(flagValue("--host", in: arguments) == "0.0.0.0", "inside a pod the server must listen beyond loopback")
        let service = try named("Service", "unwind-serve")
        let labels = deployment["spec"]["template"]["metadata"]["labels"]
        let selector = service["spec"]["selector"].map
        #expect(!selector.isEmpty)
        for (key, value) in selector {
            #expect(labels[key].string == value.string, "the Service selector \(key)=\(value) does not match the server pods")
        }
        let portNames = Set(container["ports"].list.compactMap { $0["name"].string })
        for port in service["spec"]["ports"].list {
            #expect(portNames.contains(port["targetPort"].string ?? ""), "Service targetPort \(port["targetPort"]) is not a named container port")
        }
    }

    @Test func theMigrationJobRunsMigrateAsTheOwnerOnce() throws {
        let job = try named("Job", "unwind-migrate")
        let pod = job["spec"]["template"]["spec"]
        let container = try #require(pod["containers"].list.first)
        #expect(container["args"].strings.first == "migrate")
        #expect(["Never", "OnFailure"].contains(pod["restartPolicy"].string ?? ""))
        let url = container["env"].list.first { $0["name"].string == "UNWIND_DATABASE_URL" }?["value"].string ?? ""
        #expect(url.contains("unwind_owner"), "migrations run as the owner role: \(url)")
        #expect(job["spec"]["backoffLimit"].int != nil)
    }

    @Test func disruptionBudgetsSelectTheDeployments() throws {
        let deployments = try objects(kind: "Deployment").map(\.object)
        for (file, budget) in try objects(kind: "PodDisruptionBudget") {
            let selector = budget["spec"]["selector"]["matchLabels"].map
            #expect(!selector.isEmpty, "\(file): PDB without selector")
            #expect(budget["spec"]["minAvailable"].exists || budget["spec"]["maxUnavailable"].exists)
            let matches = deployments.filter { deployment in
                selector.allSatisfy { deployment["spec"]["template"]["metadata"]["labels"][$0.key].string == $0.value.string }
            }
            #expect(matches.count == 1, "\(file): \(budget["metadata"]["name"]) must select exactly one Deployment")
        }
    }

    @Test func theConfigMapHoldsNoSecretAndTheSecretOnlyPlaceholders() throws {
        let config = try named("ConfigMap", "unwind-config")
        for (key, value) in config["data"].map {
            #expect(!looksLikeSecretName(key), "ConfigMap key \(key) looks like a secret: put it in the Secret")
            #expect(!urlCarriesPassword(value.string ?? ""), "ConfigMap \(key) has a password in a URL")
        }
        let secret = try named("Secret", "unwind-secrets")
        let values = secret["stringData"].map
        #expect(!values.isEmpty)
        for (key, value) in values {
            #expect(value.string?.contains("CHANGE-ME") == true, "Secret key \(key) must be a clearly marked placeholder")
        }
    }

    @Test func theKustomizationListsExistingFilesAndLeavesTheJobAndSecretOut() throws {
        let kustomization = try DeployFiles.document(Self.directory + "/kustomization.yaml")
        #expect(kustomization["kind"].string == "Kustomization")
        #expect(kustomization["namespace"].string == "unwind")
        let resources = kustomization["resources"].strings
        #expect(!resources.isEmpty)
        for resource in resources {
            #expect(FileManager.default.fileExists(atPath: DeployFiles.root + "/" + Self.directory + "/" + resource), "kustomization lists missing \(resource)")
        }
        // The Job is applied (and waited for) before the Deployments; the Secret is the operator's, never a placeholder.
        #expect(!resources.contains { $0.contains("migrate") || $0.contains("secret") }, "\(resources)")
    }
}
