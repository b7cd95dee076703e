using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Compute;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Compute;

/// <summary>
/// Compute jobs end to end: the server in this process, real HTTP on loopback, the local process pool running real
/// <c>btmc worker</c> processes (and Blender), the CLI submitting and waiting with its progress bar.
/// </summary>
public sealed class JobEndpointsTests
{
    private static readonly string[] Honest = ["alice", "bob", "carol"];

    private static byte[] Header(byte seed) => [.. Enumerable.Range(0, 78).Select(i => (byte)((i * 31) + seed))];

    [Fact]
    public async Task HashRangeJob_SubmittedWithTheCliWaiting_FindsEveryNonceAndCreditsTheContributors()
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        var header = Header(1);

        var (exit, output, error) = await harness.BtmcAsync("compute", "submit", "hash-range", "--header", Convert.ToHexString(header),
            "--bits", "10", "--start", "1000", "--count", "60000", "--task-size", "10000", "--wait");

        Assert.True(exit == 0, error);
        var job = JsonDocument.Parse(output).RootElement;
        Assert.Equal("completed", job.GetProperty("state").GetString());
        var results = job.GetProperty("results");
        Assert.Equal(60_000UL, results.GetProperty("hashes").GetUInt64());
        var expected = ComputeJobsHarness.PlainLoop(header, 10, 1000, 60_000);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, results.GetProperty("found").EnumerateArray().Select(n => n.GetUInt64()));

        // The progress bar ends full: every task, the sampled re-executions included.
        var total = job.GetProperty("tasks").GetProperty("total").GetInt32();
        Assert.Matches($@"\[#{{30}}\] {total}/{total}", error);
        var checks = job.GetProperty("verification").GetProperty("checks").EnumerateArray().ToList();
        Assert.NotEmpty(checks);
        Assert.Equal(6 + checks.Count, total);
        Assert.All(checks, c => Assert.Equal("agreed", c.GetProperty("decision").GetString()));
        Assert.All(checks, c => Assert.NotEqual(c.GetProperty("contributor").GetString(), c.GetProperty("verifier").GetString()));
        Assert.Empty(job.GetProperty("verification").GetProperty("caught").EnumerateArray());

        // Credits: every hash of every task, re-executions included, in the taskcredits rows of the verification epoch.
        var credits = job.GetProperty("credits");
        var epoch = credits.GetProperty("epoch").GetInt64();
        Assert.Equal(new ComputeOptions().EpochOf(credits.GetProperty("verifiedAt").GetDateTimeOffset()), epoch);
        var perContributor = credits.GetProperty("contributors").EnumerateArray().ToDictionary(c => c.GetProperty("contributor").GetString()!, c => c.GetProperty("work").GetInt64());
        Assert.Equal(Honest, perContributor.Keys);
        Assert.Equal(60_000 + (10_000L * checks.Count), perContributor.Values.Sum());
        var id = job.GetProperty("id").GetString()!;
        foreach (var (contributor, work) in perContributor)
        {
            var rows = await harness.CreditsOfAsync(contributor);
            Assert.All(rows, r => Assert.StartsWith($"{ComputeTables.EpochKey(epoch)}:{id}:", r.RowKey, StringComparison.Ordinal));
            Assert.Equal(work, rows.Sum(r => r.GetInt64("Work")));
        }

        // The same request again is the same job.
        var again = await harness.BtmcAsync("compute", "submit", "hash-range", "--header", Convert.ToHexString(header),
            "--bits", "10", "--start", "1000", "--count", "60000", "--task-size", "10000");
        Assert.Equal(0, again.Exit);
        Assert.Contains($"# job {id} exists already", again.Error, StringComparison.Ordinal);
        var status = await harness.BtmcAsync("compute", "status", id);
        Assert.Equal(0, status.Exit);
        Assert.Equal("completed", JsonDocument.Parse(status.Output).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task DigestJob_Files_DigestsMatchSha256HashDataAndWorkIsBlocksRead()
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        var sizes = new[] { 0, 1, 64, 65, 4096, (1 << 20) + 7, 3 };
        var paths = sizes.Select((size, i) =>
        {
            var path = Path.Combine(harness.Inputs, $"part {i}.bin");
            File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(size));
            return path;
        }).ToList();

        var (status, submitted) = await harness.PostJobAsync(new { kind = "digest", files = paths, filesPerTask = 3 });
        var job = await harness.WaitFinishedAsync(submitted.GetProperty("id").GetString()!);

        Assert.Equal(201, status);
        Assert.Equal("completed", job.GetProperty("state").GetString());
        var digests = job.GetProperty("results").GetProperty("digests").EnumerateArray().ToList();
        Assert.Equal(paths, digests.Select(d => d.GetProperty("file").GetString()));
        for (var i = 0; i < paths.Count; i++)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(paths[i]))), digests[i].GetProperty("sha256").GetString());
            Assert.Equal(sizes[i], digests[i].GetProperty("bytes").GetInt64());
        }

        // Work: each file's 64-byte blocks, rounded up, for every task run (the verified ones twice).
        long Blocks(int size) => (size + 63) / 64;
        var taskWork = new[] { sizes[..3].Sum(Blocks), sizes[3..6].Sum(Blocks), Blocks(sizes[6]) };
        var verified = job.GetProperty("verification").GetProperty("checks").EnumerateArray().Select(c => int.Parse(c.GetProperty("task").GetString()![1..]));
        var credited = job.GetProperty("credits").GetProperty("contributors").EnumerateArray().Sum(c => c.GetProperty("work").GetInt64());
        Assert.Equal(taskWork.Sum() + verified.Sum(i => taskWork[i]), credited);

        // A task's own files: its standard output is the worker's result.
        var stdout = JsonDocument.Parse(await harness.Server.Http.GetStringAsync($"api/compute/jobs/{job.GetProperty("id").GetString()}/tasks/t00000/files/stdout.txt")).RootElement;
        Assert.Equal("digest", stdout.GetProperty("kind").GetString());
        Assert.Equal(3, stdout.GetProperty("digests").GetArrayLength());
    }

    [Fact]
    public async Task RenderJob_BlendScene_ProducesRealPngFramesOfTheSceneSize()
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        var scene = await BlenderScene.CreateAsync(harness.Inputs, width: 64, height: 48, frames: 3);

        var (exit, output, error) = await harness.BtmcAsync("compute", "submit", "render", "--scene", scene, "--frames", "1-3",
            "--frames-per-task", "2", "--engine", "BLENDER_WORKBENCH", "--wait");

        Assert.True(exit == 0, error);
        var job = JsonDocument.Parse(output).RootElement;
        Assert.Equal("completed", job.GetProperty("state").GetString());
        var frames = job.GetProperty("results").GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], frames.Select(f => f.GetProperty("frame").GetInt32()));
        var hashes = new HashSet<string>();
        foreach (var frame in frames)
        {
            using var response = await harness.Server.Http.GetAsync(frame.GetProperty("url").GetString()!.TrimStart('/'));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            var png = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal((64, 48), BlenderScene.PngSize(png));
            Assert.Equal(frame.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(png)));
            hashes.Add(frame.GetProperty("sha256").GetString()!);
        }

        Assert.Equal(3, hashes.Count);
        var checks = job.GetProperty("verification").GetProperty("checks").EnumerateArray().ToList();
        Assert.All(checks, c => Assert.Equal("agreed", c.GetProperty("decision").GetString()));
        var verifiedFrames = checks.Sum(c => c.GetProperty("task").GetString() == "t00000" ? 2 : 1);
        var credited = job.GetProperty("credits").GetProperty("contributors").EnumerateArray().Sum(c => c.GetProperty("work").GetInt64());
        Assert.Equal((3 + verifiedFrames) * new ComputeOptions().RenderFrameWork, credited);
    }

    [Fact]
    public async Task DishonestContributor_CorruptsItsResults_IsCaughtAndNotCreditedWhileHonestOnesAre()
    {
        using var scripts = new TempDirectory();
        var wrapper = scripts.Combine("dishonest-worker.sh");
        // Runs the real worker, then reports no finds at all: the cheap lie of a worker that never hashed.
        await File.WriteAllTextAsync(wrapper, $$"""
            #!/bin/sh
            result=$(dotnet "{{ComputeJobsHarness.WorkerDll}}" worker "$@") || exit $?
            printf '%s\n' "$result" | sed -e 's/"found":\[[^]]*\]/"found":[]/'
            """);
        await using var harness = await ComputeJobsHarness.StartAsync(["alice", "bob", "mallory"],
            "--Compute:VerifySampleRate", "1", "--Compute:LocalPool:ContributorCommands:mallory:0", "/bin/sh", "--Compute:LocalPool:ContributorCommands:mallory:1", wrapper);
        var header = Header(2);
        for (var task = 0UL; task < 6; task++)
        {
            // Every task finds something, so that the lie changes every result of mallory's.
            Assert.NotEmpty(ComputeJobsHarness.PlainLoop(header, 8, task * 1000, 1000));
        }

        var (status, submitted) = await harness.PostJobAsync(new { kind = "hash-range", header = Convert.ToHexString(header), bits = 8, count = 6000, taskSize = 1000 });
        var job = await harness.WaitFinishedAsync(submitted.GetProperty("id").GetString()!);

        Assert.Equal(201, status);
        Assert.Equal("completed", job.GetProperty("state").GetString());
        var verification = job.GetProperty("verification");
        Assert.Equal(["mallory"], verification.GetProperty("caught").EnumerateArray().Select(c => c.GetString()));
        var checks = verification.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(6, checks.Count);
        Assert.All(checks.Where(c => c.GetProperty("contributor").GetString() == "mallory"),
            c => Assert.Equal("verification-upheld", c.GetProperty("decision").GetString()));
        Assert.All(checks.Where(c => c.GetProperty("verifier").GetString() == "mallory"),
            c => Assert.Equal("original-upheld", c.GetProperty("decision").GetString()));
        Assert.Equal(["alice", "bob"], job.GetProperty("credits").GetProperty("contributors").EnumerateArray().Select(c => c.GetProperty("contributor").GetString()));
        Assert.Empty(await harness.CreditsOfAsync("mallory"));
        Assert.NotEmpty(await harness.CreditsOfAsync("alice"));
        Assert.NotEmpty(await harness.CreditsOfAsync("bob"));

        // The results are the honest ones all the same.
        Assert.Equal(ComputeJobsHarness.PlainLoop(header, 8, 0, 6000), job.GetProperty("results").GetProperty("found").EnumerateArray().Select(n => n.GetUInt64()));
    }

    [Fact]
    public async Task Job_ServerRestartedWhileItRuns_CompletesWithTheSameResults()
    {
        string[] oneAtATime = ["--Compute:LocalPool:MaxParallelTasks", "1"];
        await using var harness = await ComputeJobsHarness.StartAsync(Honest, oneAtATime);
        var header = Header(3);
        var (_, submitted) = await harness.PostJobAsync(new { kind = "hash-range", header = Convert.ToHexString(header), bits = 12, count = 400_000, taskSize = 50_000 });
        var id = submitted.GetProperty("id").GetString()!;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((await harness.Server.GetJsonAsync($"api/compute/jobs/{id}")).GetProperty("tasks").GetProperty("done").GetInt32() == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "no task finished");
            await Task.Delay(50);
        }

        Assert.Equal("running", (await harness.Server.GetJsonAsync($"api/compute/jobs/{id}")).GetProperty("state").GetString());
        await harness.RestartAsync(oneAtATime);
        var job = await harness.WaitFinishedAsync(id);

        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.Equal(ComputeJobsHarness.PlainLoop(header, 12, 0, 400_000), job.GetProperty("results").GetProperty("found").EnumerateArray().Select(n => n.GetUInt64()));
        Assert.Equal(job.GetProperty("tasks").GetProperty("total").GetInt32(), job.GetProperty("tasks").GetProperty("done").GetInt32());
        Assert.NotEmpty(await harness.CreditsOfAsync("alice"));
    }

    [Fact]
    public async Task SubmitJob_BadRequests_ProblemsNamingTheField()
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        (string Body, int Status, string Field)[] cases =
        [
            ("""{"kind":"hash-range","header":"00","bits":0,"count":10}""", 400, "bits"),
            ("""{"kind":"hash-range","header":"zz","bits":4,"count":10}""", 400, "header"),
            ("""{"kind":"mine"}""", 400, "kind"),
            ("""{"kind":"render","scene":"/s.blend","frames":"5-2"}""", 400, "frames"),
            ("""{"kind":"digest","files":["/etc/passwd"]}""", 403, "files[0]"),
            ("""{"kind":"render","scene":"http://169.254.169.254/latest/meta-data","frames":"1-2"}""", 403, "scene"),
            ($$"""{"kind":"digest","files":["{{Path.Combine(harness.Inputs, "absent.bin")}}"]}""", 400, "files[0]"),
            ("""{"kind":"hash-range","header":"00","bits":4,"count":10,"contributors":["alice","nobody"]}""", 409, "contributors"),
            ("""not json""", 400, "body"),
        ];

        foreach (var (body, status, field) in cases)
        {
            using var response = await harness.Server.Http.PostAsync("api/compute/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

            Assert.True(status == (int)response.StatusCode, $"{body}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task Endpoints_NoPartnerKeyOrUnknownJob_401And404()
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        using var anonymous = new HttpClient { BaseAddress = harness.Server.Http.BaseAddress };

        using var unauthenticated = await anonymous.PostAsync("api/compute/jobs", new StringContent("""{"kind":"hash-range","header":"00","bits":4,"count":10}""", Encoding.UTF8, "application/json"));
        using var anonymousRead = await anonymous.GetAsync($"api/compute/jobs/{new string('a', 64)}");
        using var unknown = await harness.Server.Http.GetAsync($"api/compute/jobs/{new string('a', 64)}");
        using var noFile = await harness.Server.Http.GetAsync($"api/compute/jobs/{new string('a', 64)}/tasks/t00000/files/stdout.txt");

        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousRead.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noFile.StatusCode);
        Assert.Matches(new Regex("^application/problem\\+json"), unknown.Content.Headers.ContentType?.ToString() ?? string.Empty);
    }

    /// <summary>The compute-job cells of the access matrix (docs/partners.md): the submitter, auditors and operators see
    /// a job; another partner does not, not even its files.</summary>
    [Theory]
    [InlineData("local", HttpStatusCode.OK)]
    [InlineData("fab-a", HttpStatusCode.NotFound)]
    [InlineData("aud-d", HttpStatusCode.OK)]
    [InlineData("operator", HttpStatusCode.OK)]
    public async Task GetJob_AsEachCaller_OnlyTheSubmitterAuditorsAndOperatorsSeeIt(string caller, HttpStatusCode expected)
    {
        await using var harness = await ComputeJobsHarness.StartAsync(Honest);
        await harness.Server.AddPartnerAsync("fab-a", ["4012345"]);
        await harness.Server.AddPartnerAsync("aud-d", [], ["auditor"]);
        var (status, job) = await harness.PostJobAsync(new { kind = "hash-range", header = "00", bits = 4, count = 10 });
        Assert.True(status == 201, job.ToString());
        var id = job.GetProperty("id").GetString();
        using var client = caller == "local" ? new HttpClient { BaseAddress = harness.Server.Http.BaseAddress } : harness.Server.ClientAs(caller);
        if (caller == "local")
        {
            client.DefaultRequestHeaders.Add("X-API-Key", (await File.ReadAllTextAsync(harness.Server.ApiKeyFile)).Trim());
        }

        using var response = await client.GetAsync($"api/compute/jobs/{id}");
        using var file = await client.GetAsync($"api/compute/jobs/{id}/tasks/t00000/files/stdout.txt");

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.NotFound)
        {
            Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        }
    }
}
