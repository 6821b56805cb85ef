import Foundation
import Testing

/// deploy/compose/compose.yaml: parses, and every reference in it resolves (images or build files, secrets,
/// mounted files, dependencies), in the order the README describes. No Docker engine runs here, so
/// `docker compose config` cannot be the check.
@Suite("Compose file")
struct ComposeFileTests {
    static let file = "deploy/compose/compose.yaml"

    func compose() throws -> YAMLValue { try DeployFiles.document(Self.file) }

    func service(_ name: String) throws -> YAMLValue {
        let service = try compose()["services"][name]
        try #require(service.exists, "no service \(name) in \(Self.file)")
        return service
    }

    @Test func everyServiceHasAnImageOrABuildThatExists() throws {
        let services = try compose()["services"].map
        #expect(Set(services.keys).isSuperset(of: ["postgres", "migrate", "cloudsim", "worker", "serve"]), "\(services.keys.sorted())")
        for (name, service) in services {
            let image = service["image"].string
            let build = service["build"]
            #expect(image != nil || build.exists, "\(name): neither image nor build")
            if build.exists {
                let context = (DeployFiles.root + "/deploy/compose/" + (build["context"].string ?? "."))
                let dockerfile = context + "/" + (build["dockerfile"].string ?? "Dockerfile")
                #expect(FileManager.default.fileExists(atPath: dockerfile), "\(name): build file \(dockerfile) does not exist")
            }
        }
        #expect(try service("postgres")["image"].string?.hasPrefix("postgres:15") == true, "PostgreSQL 15")
    }

    @Test func secretsAreDeclaredAndNeverInline() throws {
        let compose = try compose()
        let declared = compose["secrets"].map
        #expect(!declared.isEmpty, "secrets go through compose secrets:")
        for (name, secret) in declared {
            #expect(secret["file"].exists || secret["environment"].exists || secret["external"].exists, "secret \(name) has no source")
        }
        for (name, service) in compose["services"].map {
            for reference in service["secrets"].list {
                let secretName = reference.string ?? reference["source"].string ?? ""
                #expect(declared[secretName] != nil, "\(name) uses undeclared secret \(secretName)")
            }
            for (variable, value) in service["environment"].map {
                if looksLikeSecretName(variable) {
                    #expect(Bool(false), "\(name): \(variable) carries a secret inline; use a *_FILE from /run/secrets")
                }
                #expect(!urlCarriesPassword(value.string ?? ""), "\(name): \(variable) has a password in its URL")
                if variable.hasSuffix("_FILE"), let path = value.string, path.hasPrefix("/run/secrets/") {
                    let secretName = String(path.dropFirst("/run/secrets/".count))
                    #expect(service["secrets"].list.contains { ($0.string ?? $0["source"].string) == secretName },
                            "\(name): \(variable) points at secret \(secretName) the service does not mount")
                }
            }
        }
    }

    @Test func migrationsRunOnceAsTheOwnerBeforeWorkersAndServer() throws {
        let migrate = try service("migrate")
        #expect(migrate["command"].strings.first == "migrate")
        #expect(migrate["environment"]["UNWIND_DATABASE_URL"].string?.contains("unwind_owner") == true)
        #expect(migrate["restart"].string == "no" || !migrate["restart"].exists)
        #expect(migrate["depends_on"]["postgres"]["condition"].string == "service_healthy")
        for name in ["worker", "serve"] {
            let service = try service(name)
            #expect(service["depends_on"]["migrate"]["condition"].string == "service_completed_successfully", "\(name) waits for migrate")
            #expect(service["environment"]["UNWIND_DATABASE_URL"].string?.contains("unwind_worker") == true, "\(name) connects as unwind_worker")
        }
    }

    @Test func workersScaleDrainAndExposeMetrics() throws {
        let worker = try service("worker")
        #expect(worker["deploy"]["replicas"].int == 2)
        let arguments = worker["command"].strings
        #expect(arguments.first == "worker")
        let grace = try #require(flagValue("--grace", in: arguments).flatMap(durationSeconds), "set --grace explicitly: \(arguments)")
        let stop = try #require(worker["stop_grace_period"].string.flatMap(durationSeconds), "stop_grace_period")
        #expect(stop > grace, "stop_grace_period \(stop)s must exceed --grace \(grace)s or Docker kills a draining worker")
        #expect(worker["environment"]["UNWIND_METRICS_PORT"].exists || flagValue("--metrics-port", in: arguments) != nil)
        #expect(worker["container_name"].exists == false, "a fixed container name prevents replicas")
        #expect(worker["ports"].list.isEmpty, "replicas cannot share a published host port")
    }

    @Test func theServerIsPublishedOnLoopbackOnly() throws {
        let serve = try service("serve")
        let ports = serve["ports"].list.compactMap(\.string)
        #expect(ports == ["127.0.0.1:8080:8080"], "\(ports)")
        #expect(flagValue("--host", in: serve["command"].strings) == "0.0.0.0", "inside its container the server must listen beyond loopback")
    }

    @Test func longRunningServicesHaveHealthchecks() throws {
        for name in ["postgres", "cloudsim", "worker", "serve"] {
            let test = try service(name)["healthcheck"]["test"].strings
            #expect(!test.isEmpty, "\(name): no healthcheck")
        }
        #expect(try service("worker")["healthcheck"]["test"].strings.joined(separator: " ").contains("/readyz"))
        #expect(try service("serve")["healthcheck"]["test"].strings.joined(separator: " ").contains("/readyz"))
    }

    @Test func postgresRunsTheRolesScriptAndMountedFilesExist() throws {
        let postgres = try service("postgres")
        let mounts = postgres["volumes"].list.compactMap(\.string)
        #expect(mounts.contains { $0.hasPrefix("../../db/roles.sql:") }, "db/roles.sql is mounted into the PostgreSQL container: \(mounts)")
        for (name, service) in try compose()["services"].map {
            for mount in service["volumes"].list.compactMap(\.string) where mount.hasPrefix(".") {
                let source = String(mount.split(separator: ":")[0])
                #expect(FileManager.default.fileExists(atPath: DeployFiles.root + "/deploy/compose/" + source), "\(name) mounts missing \(source)")
            }
        }
        let cloudsim = try service("cloudsim")
        #expect(cloudsim["entrypoint"].strings.contains("unwind-cloudsim") || cloudsim["entrypoint"].string == "unwind-cloudsim")
        #expect(cloudsim["command"].strings.contains { $0.hasSuffix("seeds/sample.json") })
    }
}
