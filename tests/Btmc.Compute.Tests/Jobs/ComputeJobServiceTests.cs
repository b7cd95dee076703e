using Btmc.Compute.Jobs;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

/// <summary>The job service over the embedded table store and an in-memory pool: submission, verification, crediting.</summary>
public sealed class ComputeJobServiceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Header = Convert.ToHexStringLower([.. Enumerable.Range(0, 78).Select(i => (byte)(3 * i))]);

    private readonly TempDirectory _directory = new();
    private JobInputs? _inputs;
    private readonly SqliteTableServiceClient _service;
    private readonly ComputeTables _tables;
    private readonly FakeComputePool _pool = new();

    public ComputeJobServiceTests()
    {
        _service = new SqliteTableServiceClient(_directory.Combine("tables.db"));
        _tables = new ComputeTables(_service);
    }

    public void Dispose()
    {
        _service.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task SubmitAsync_SameRequestTwice_OneJob()
    {
        var jobs = await StartAsync(["alice", "bob"]);

        var (first, created) = await jobs.SubmitAsync(Request(12_000, 3000));
        var submitted = _pool.Submitted;
        var (second, again) = await jobs.SubmitAsync(Request(12_000, 3000));

        Assert.True(created);
        Assert.False(again);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(submitted, _pool.Submitted);
        Assert.Equal(JobStates.Running, second.State);
        Assert.Equal(4, second.PlannedTasks);
        Assert.True(second.TasksTotal > 4, "at least one task is re-executed for verification");
        Assert.Null(second.Checks);
    }

    [Fact]
    public async Task AdvanceAsync_HonestContributors_CompletesCreditingEveryTaskInTheVerificationEpoch()
    {
        var jobs = await StartAsync(["alice", "bob", "carol"], rate: 0.3);
        var request = Request(20_000, 2500);
        var (job, _) = await jobs.SubmitAsync(request);

        await AdvanceUntilDoneAsync(jobs);
        var status = await jobs.GetAsync(job.Id);

        Assert.Equal(JobStates.Completed, status!.State);
        var results = Assert.IsType<HashRangeResults>(status.Results);
        Assert.Equal(NonceSearch.Search(Convert.FromHexString(Header), 8, 0, 20_000, 1), results.Found);
        Assert.Empty(status.Caught);
        Assert.All(status.Checks!, c => Assert.Equal(CheckDecision.Agreed, c.Decision));
        Assert.All(status.Checks!, c => Assert.NotEqual(c.Contributor, c.Verifier));
        var epoch = new ComputeOptions().EpochOf(Now);
        Assert.Equal(epoch, status.Epoch);
        var credits = await CreditsAsync(["alice", "bob", "carol"]);
        Assert.Equal(status.TasksTotal, credits.Count);
        Assert.All(credits, c => Assert.StartsWith($"{ComputeTables.EpochKey(epoch)}:{job.Id}:", c.RowKey, StringComparison.Ordinal));
        Assert.All(credits, c => Assert.Equal(Now, (DateTimeOffset)c.Properties["VerifiedAt"]));
        Assert.Equal(20_000 + (2500L * status.Checks!.Count), credits.Sum(c => c.GetInt64("Work")));
        Assert.Equal(credits.Sum(c => c.GetInt64("Work")), status.Credits!.Sum(c => c.Work));
        Assert.Equal(8, credits.Count(c => c.RowKey.Split(':')[2].StartsWith('t')));
    }

    [Fact]
    public async Task AdvanceAsync_Liar_CaughtNotCreditedAndTheResultsStillRight()
    {
        _pool.Behaviours["mallory"] = FakeComputePool.Behaviour.Liar;
        var jobs = await StartAsync(["alice", "bob", "mallory"], rate: 1.0);
        var (job, _) = await jobs.SubmitAsync(Request(24_000, 2000));

        await AdvanceUntilDoneAsync(jobs);
        var status = await jobs.GetAsync(job.Id);

        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Equal(["mallory"], status.Caught);
        Assert.Equal(NonceSearch.Search(Convert.FromHexString(Header), 8, 0, 24_000, 1), ((HashRangeResults)status.Results!).Found);
        Assert.Equal(["alice", "bob"], status.Credits!.Select(c => c.Contributor));
        Assert.Empty(await CreditsAsync(["mallory"]));
        Assert.NotEmpty(await CreditsAsync(["alice"]));
        Assert.Contains(status.Checks!, c => c.Contributor == "mallory" && c.Decision == CheckDecision.VerificationUpheld);
        Assert.Contains(status.Checks!, c => c.Verifier == "mallory" && c.Decision == CheckDecision.OriginalUpheld);
    }

    [Fact]
    public async Task AdvanceAsync_InvalidResult_CaughtEvenWhereNotSampled()
    {
        _pool.Behaviours["mallory"] = FakeComputePool.Behaviour.Invalid;
        var jobs = await StartAsync(["alice", "bob", "mallory"], rate: 0.0);
        var (job, _) = await jobs.SubmitAsync(Request(9000, 1000));

        await AdvanceUntilDoneAsync(jobs);
        var status = await jobs.GetAsync(job.Id);

        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Single(status.Checks!);
        Assert.Equal(["mallory"], status.Caught);
        Assert.Empty(await CreditsAsync(["mallory"]));
        Assert.Equal(NonceSearch.Search(Convert.FromHexString(Header), 8, 0, 9000, 1), ((HashRangeResults)status.Results!).Found);
    }

    [Fact]
    public async Task AdvanceAsync_BrokenWorker_JobFailsTerminatedAndNobodyCredited()
    {
        _pool.Behaviours["bob"] = FakeComputePool.Behaviour.Broken;
        var jobs = await StartAsync(["alice", "bob"]);
        var (job, _) = await jobs.SubmitAsync(Request(4000, 1000));

        await AdvanceUntilDoneAsync(jobs);
        var status = await jobs.GetAsync(job.Id);

        Assert.Equal(JobStates.Failed, status!.State);
        Assert.Contains("(bob) failed: exit code 1: broken worker", status.Failure, StringComparison.Ordinal);
        Assert.Equal([job.Id], _pool.Terminated);
        Assert.Null(status.Credits);
        Assert.Empty(await CreditsAsync(["alice", "bob"]));
    }

    [Fact]
    public async Task AdvanceAsync_CompletedJob_WritesNothingMore()
    {
        var jobs = await StartAsync(["alice", "bob"]);
        var (job, _) = await jobs.SubmitAsync(Request(4000, 1000));
        await AdvanceUntilDoneAsync(jobs);
        var credits = await CreditsAsync(["alice", "bob"]);

        var summary = await jobs.AdvanceAsync();

        Assert.Equal(0, summary.Active);
        Assert.Equal(credits.Select(c => c.RowKey), (await CreditsAsync(["alice", "bob"])).Select(c => c.RowKey));
        Assert.Equal(JobStates.Completed, (await jobs.GetAsync(job.Id))!.State);
    }

    [Fact]
    public async Task AdvanceAsync_NewServiceAndAPoolThatLostTheTasks_SubmitsThemAgainAndFinishes()
    {
        _pool.RunOnSubmit = false;
        var first = await StartAsync(["alice", "bob", "carol"]);
        var (job, _) = await first.SubmitAsync(Request(6000, 1000));
        await first.AdvanceAsync();

        // A restart with a pool that knows nothing of the job (it crashed before the submission reached it).
        var emptyPool = new FakeComputePool();
        var second = new ComputeJobService(_tables, emptyPool, new ComputeOptions { VerifySampleRate = 0.1 }, Inputs, new FakeTimeProvider(Now));
        await second.StartAsync();
        await second.AdvanceAsync();
        Assert.Equal(job.TasksTotal, emptyPool.TasksOf(job.Id).Count);
        Assert.Equal(_pool.TasksOf(job.Id).Select(t => t.Id).Order(), emptyPool.TasksOf(job.Id).Select(t => t.Id).Order());
        await AdvanceUntilDoneAsync(second);

        var status = await second.GetAsync(job.Id);
        Assert.Equal(JobStates.Completed, status!.State);
        Assert.Equal(NonceSearch.Search(Convert.FromHexString(Header), 8, 0, 6000, 1), ((HashRangeResults)status.Results!).Found);
    }

    [Fact]
    public async Task ReadTaskFileAsync_ExtraTaskWhileTheJobRuns_HiddenUntilItEnds()
    {
        _pool.RunOnSubmit = false;
        var jobs = await StartAsync(["alice", "bob"], rate: 1.0);
        var (job, _) = await jobs.SubmitAsync(Request(2000, 1000));
        _pool.RunPending();
        var verification = _pool.TasksOf(job.Id).First(t => t.Id.StartsWith('v')).Id;

        Assert.NotNull(await jobs.ReadTaskFileAsync(job.Id, "t00000", "stdout.txt"));
        Assert.Null(await jobs.ReadTaskFileAsync(job.Id, verification, "stdout.txt"));
        await AdvanceUntilDoneAsync(jobs);
        Assert.NotNull(await jobs.ReadTaskFileAsync(job.Id, verification, "stdout.txt"));
        Assert.Null(await jobs.ReadTaskFileAsync(job.Id, "t00009", "stdout.txt"));
        Assert.Null(await jobs.ReadTaskFileAsync("not-a-job", "t00000", "stdout.txt"));
    }

    [Fact]
    public async Task SubmitAsync_TooFewOrUnregisteredContributors_Conflict()
    {
        var jobs = await StartAsync(["alice"]);

        var tooFew = await Assert.ThrowsAsync<Refused>(() => jobs.SubmitAsync(Request(4000, 1000)));
        var unknown = await Assert.ThrowsAsync<Refused>(() => jobs.SubmitAsync(Request(4000, 1000) with { Contributors = ["alice", "zed"] }));

        Assert.Equal(("contributors", RefusalKind.Conflict), (tooFew.Field, tooFew.Kind));
        Assert.Equal(("contributors", RefusalKind.Conflict), (unknown.Field, unknown.Kind));
        Assert.Contains("'zed' is not a registered contributor", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(0, _pool.Submitted);
    }

    [Fact]
    public async Task SubmitAsync_MissingLocalFile_RejectedNamingIt()
    {
        var jobs = await StartAsync(["alice", "bob"]);
        var present = Path.Combine(Inputs.Folder!, "present.bin");
        await File.WriteAllTextAsync(present, "x");

        var rejected = await Assert.ThrowsAsync<Refused>(() => jobs.SubmitAsync(new DigestRequest("p", [present, Path.Combine(Inputs.Folder!, "absent.bin")], 4)));

        Assert.Equal("files[1]", rejected.Field);
        Assert.Equal(RefusalKind.Invalid, rejected.Kind);
    }

    [Fact]
    public async Task SubmitAsync_InputOutsideTheInputsFolder_ForbiddenAndNothingSubmitted()
    {
        var jobs = await StartAsync(["alice", "bob"]);
        var outside = _directory.Combine("tables.db");

        var refused = await Assert.ThrowsAsync<Refused>(() => jobs.SubmitAsync(new DigestRequest("p", [outside], 4)));

        Assert.Equal(("files[0]", RefusalKind.Forbidden), (refused.Field, refused.Kind));
        Assert.Equal(0, _pool.Submitted);
    }

    private JobInputs Inputs => _inputs ??= JobInputs.InFolder(_directory.Combine("inputs"));

    private static HashRangeRequest Request(ulong count, ulong taskSize) => new("partner", Header, 8, 0, count, taskSize);

    private async Task<ComputeJobService> StartAsync(string[] contributors, double rate = 0.1)
    {
        await _tables.CreateIfNotExistsAsync();
        foreach (var contributor in contributors)
        {
            await _tables.Contributors.UpsertEntityAsync(new TableEntity(ComputeTables.ContributorsPartition, contributor, new Dictionary<string, object>
            {
                ["ResourceType"] = "cpu",
                ["PublicKey"] = """{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}""",
            }));
        }

        var jobs = new ComputeJobService(_tables, _pool, new ComputeOptions { VerifySampleRate = rate }, Inputs, new FakeTimeProvider(Now));
        await jobs.StartAsync();
        return jobs;
    }

    private async Task AdvanceUntilDoneAsync(ComputeJobService jobs)
    {
        for (var pass = 0; pass < 20; pass++)
        {
            _pool.RunPending();
            var summary = await jobs.AdvanceAsync();
            Assert.Empty(summary.Errors);
            if (summary.Active == 0)
            {
                return;
            }
        }

        Assert.Fail("the job did not finish in 20 passes");
    }

    private async Task<List<TableEntity>> CreditsAsync(string[] contributors)
    {
        var rows = new List<TableEntity>();
        foreach (var contributor in contributors)
        {
            rows.AddRange((await _tables.TaskCredits.QueryAsync(new TableQuery(contributor))).Items);
        }

        return rows;
    }
}
