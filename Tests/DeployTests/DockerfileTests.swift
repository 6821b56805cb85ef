import Foundation
import Testing

/// deploy/docker/Dockerfile cannot be built here (no Docker engine, only the client): these checks read it as
/// Docker would — instructions with continuation lines joined — and hold it to what the README promises.
@Suite("Dockerfile")
struct DockerfileTests {
    struct Instruction {
        var keyword: String
        var arguments: String
    }

    func instructions() throws -> [Instruction] {
        var result: [Instruction] = []
        var pending = ""
        for raw in try DeployFiles.text("deploy/docker/Dockerfile").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                pending += String(line.dropLast()) + " "
                continue
            }
            let whole = (pending + line).trimmingCharacters(in: .whitespaces)
            pending = ""
            guard !whole.isEmpty else { continue }
            let keyword = String(whole.prefix { !$0.isWhitespace }).uppercased()
            result.append(Instruction(keyword: keyword, arguments: whole.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)))
        }
        return result
    }

    /// The instructions of each stage, by stage name.
    func stages() throws -> [(name: String, image: String, body: [Instruction])] {
        var stages: [(name: String, image: String, body: [Instruction])] = []
        for instruction in try instructions() {
            if instruction.keyword == "FROM" {
                let words = instruction.arguments.split(separator: " ").map(String.init).filter { !$0.hasPrefix("--") }
                let name = words.count >= 3 && words[1].uppercased() == "AS" ? words[2] : "stage\(stages.count)"
                stages.append((name: name, image: words.first ?? "", body: []))
            } else {
                #expect(!stages.isEmpty || instruction.keyword == "ARG", "\(instruction.keyword) before the first FROM")
                if !stages.isEmpty { stages[stages.count - 1].body.append(instruction) }
            }
        }
        return stages
    }

    @Test func buildsWithSwiftAndRunsOnSlimDebian() throws {
        let stages = try stages()
        #expect(stages.count >= 2, "multi-stage")
        let build = try #require(stages.first)
        #expect(build.image.hasPrefix("swift:6") && build.image.hasSuffix("-bookworm"), "build on the official Swift 6 bookworm image: \(build.image)")
        let buildRuns = build.body.filter { $0.keyword == "RUN" }.map(\.arguments).joined(separator: "\n")
        #expect(buildRuns.contains("libpq-dev"))
        #expect(buildRuns.contains("swift build") && buildRuns.contains("-c release") && buildRuns.contains("--static-swift-stdlib"))
        let runtime = try #require(stages.last)
        #expect(runtime.image.hasPrefix("debian:bookworm") && runtime.image.contains("slim"), "\(runtime.image)")
        let runtimeRuns = runtime.body.filter { $0.keyword == "RUN" }.map(\.arguments).joined(separator: "\n")
        for package in ["libpq5", "ca-certificates", "tzdata"] {
            #expect(runtimeRuns.contains(package), "the runtime image installs \(package)")
        }
        #expect(!runtimeRuns.contains("libpq-dev"), "no build dependencies in the runtime image")
    }

    @Test func copiesTheBinariesAndDataFromTheBuildStage() throws {
        let stages = try stages()
        let build = try #require(stages.first)
        let copies = try #require(stages.last).body.filter { $0.keyword == "COPY" }.map(\.arguments)
        for item in ["unwind", "unwind-cloudsim"] {
            #expect(copies.contains { $0.contains("--from=\(build.name)") && $0.split(separator: " ").contains { $0.hasSuffix("/" + item) } },
                    "COPY --from=\(build.name) …/\(item): \(copies)")
        }
        for data in ["workflows", "db"] {
            #expect(copies.contains { $0.split(separator: " ").contains { $0 == Substring(data) || $0.hasSuffix("/" + data) || $0.hasSuffix("/" + data + "/") } },
                    "the image carries \(data)/: \(copies)")
        }
    }

    @Test func runsAsANonRootUserWithAHealthcheck() throws {
        let runtime = try #require(try stages().last).body
        let user = try #require(runtime.last { $0.keyword == "USER" }?.arguments, "the runtime stage sets USER")
        let name = String(user.split(separator: ":")[0])
        #expect(!["root", "0"].contains(name), "USER \(user)")
        #expect(Int(name).map { $0 > 0 } ?? true)
        let healthcheck = try #require(runtime.last { $0.keyword == "HEALTHCHECK" }?.arguments, "HEALTHCHECK")
        #expect(healthcheck.contains("/healthz"))
        let entrypoint = try #require(runtime.last { $0.keyword == "ENTRYPOINT" }?.arguments)
        #expect(entrypoint.hasPrefix("["), "exec form, so SIGTERM reaches unwind and not a shell: \(entrypoint)")
        #expect(runtime.contains { $0.keyword == "STOPSIGNAL" && $0.arguments == "SIGTERM" })
    }

    @Test func theDockerignoreKeepsBuildOutputAndGitOut() throws {
        let ignored = try DeployFiles.text(".dockerignore").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for pattern in [".build*", ".git"] {
            #expect(ignored.contains(pattern), ".dockerignore lacks \(pattern)")
        }
    }
}
