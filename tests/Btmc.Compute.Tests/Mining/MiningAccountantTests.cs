using Btmc.Compute.Mining;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Testing;
using Xunit;

namespace Btmc.Compute.Tests.Mining;

public sealed class MiningAccountantTests
{
    private static ComputeOptions Options() => new() { EpochSeconds = 3600, BucketSeconds = 1, ShareDifficultyBits = 8, JobLifetimeSeconds = 600 };

    [Fact]
    public async Task Account_ValidDuplicateInvalidStaleAndForeignShares_AreEachCountedForTheContributor()
    {
        await using var harness = new MiningHarness(Options());
        var alice = await harness.RegisterAsync("alice");
        using var bob = await harness.RegisterAsync("bob", Btmc.Ledger.SignatureAlgorithm.ES256K);
        var job = await harness.Mining.IssueJobAsync("alice");
        var bobsJob = await harness.Mining.IssueJobAsync("bob");
        var shares = MiningHarness.FindShares(job, 4);

        await harness.SubmitAsync(alice, "alice", false, new JobShares(job.Header, [shares[0], shares[1], shares[2], MiningHarness.FindMiss(job)]));
        await harness.SubmitAsync(alice, "alice", false, new JobShares(job.Header, [shares[1], shares[3], shares[3]]));
        await harness.SubmitAsync(alice, "alice", false, new JobShares(bobsJob.Header, MiningHarness.FindShares(bobsJob, 1)));
        harness.Clock.Advance(TimeSpan.FromSeconds(601));
        await harness.SubmitAsync(alice, "alice", false, new JobShares(job.Header, MiningHarness.FindShares(job, 1, shares[3] + 1)));
        var outcome = await harness.AccountAllAsync();

        Assert.Equal(new AccountingOutcome(Accepted: 4, Duplicates: 2, Stale: 1, Invalid: 2, Replayed: 0, Unreadable: 0), outcome);
        var (account, _) = await harness.Accountant.LoadAsync("alice", harness.Options.EpochOf(harness.Clock.GetUtcNow()));
        Assert.Equal(4, account.Accepted);
        Assert.Equal(2, account.Duplicates);
        Assert.Equal(1, account.Stale);
        Assert.Equal(2, account.Invalid);
        Assert.Equal((UInt128)4 * 256, account.ShareWork);
        alice.Dispose();
    }

    [Fact]
    public async Task Account_SameEventsDeliveredAgain_CountNothingTwice()
    {
        await using var harness = new MiningHarness(Options());
        using var alice = await harness.RegisterAsync("alice");
        var job = await harness.Mining.IssueJobAsync("alice");
        await harness.SubmitAsync(alice, "alice", true, new JobShares(job.Header, MiningHarness.FindShares(job, 5)));

        var first = await harness.AccountAllAsync();
        var again = await harness.AccountAllAsync(new MiningAccountant(harness.ComputeTables, harness.Contributors, harness.Options, harness.Mining.JobSecretAsync, harness.Clock));

        Assert.Equal(5, first.Accepted);
        Assert.Equal(new AccountingOutcome(0, 0, 0, 0, Replayed: 1, Unreadable: 0), again);
        var (account, logTo) = await harness.Accountant.LoadAsync("alice", harness.Options.EpochOf(harness.Clock.GetUtcNow()));
        Assert.Equal(5, account.Accepted);
        Assert.Equal(1, logTo);
    }

    [Fact]
    public async Task Account_CrashAfterSharesBeforePower_ReplayCountsEachShareOnce()
    {
        var failPower = true;
        await using var harness = new MiningHarness(Options(), tables => new FailingPowerTables(tables, () => failPower));
        using var alice = await harness.RegisterAsync("alice");
        var job = await harness.Mining.IssueJobAsync("alice");
        await harness.SubmitAsync(alice, "alice", false, new JobShares(job.Header, MiningHarness.FindShares(job, 3)));

        await Assert.ThrowsAsync<TableStoreException>(() => harness.AccountAllAsync());
        failPower = false;
        var replay = await harness.AccountAllAsync(new MiningAccountant(harness.ComputeTables, harness.Contributors, harness.Options, harness.Mining.JobSecretAsync, harness.Clock));

        Assert.Equal(3, replay.Accepted);
        Assert.Equal(0, replay.Duplicates);
        var (account, _) = await harness.Accountant.LoadAsync("alice", harness.Options.EpochOf(harness.Clock.GetUtcNow()));
        Assert.Equal(3, account.Accepted);
    }

    [Fact]
    public async Task Submit_BadSignatureOrUnknownContributor_IsRefusedNamingTheField()
    {
        await using var harness = new MiningHarness(Options());
        using var alice = await harness.RegisterAsync("alice");
        using var mallory = await harness.RegisterAsync("mallory");
        var job = await harness.Mining.IssueJobAsync("alice");

        var forged = await Assert.ThrowsAsync<Refused>(() => harness.SubmitAsync(mallory, "alice", false, new JobShares(job.Header, [1])));
        var unknown = await Assert.ThrowsAsync<Refused>(() => harness.SubmitAsync(alice, "nobody", false, new JobShares(job.Header, [1])));
        var header = await Assert.ThrowsAsync<Refused>(() => harness.SubmitAsync(alice, "alice", false, new JobShares("zz", [1])));

        Assert.Equal("signature", forged.Field);
        Assert.Equal("contributor", unknown.Field);
        Assert.Equal("jobs/0/header", header.Field);
        Assert.Equal(0, harness.Log.GetEndSequenceNumber(0) + harness.Log.GetEndSequenceNumber(1) + harness.Log.GetEndSequenceNumber(2) + harness.Log.GetEndSequenceNumber(3));
    }

    [Fact]
    public async Task HashRate_SimulatedMinerWithAKnownHashCount_IsEstimatedWithinTenPercent()
    {
        // A miner doing exactly 4,000 hashes per second for 500 s (2,000,000 hashes) at 8 difficulty bits: about 7,800
        // shares, so the estimate's own spread is about 1 %.
        const int Rate = 4000;
        const int Seconds = 500;
        await using var harness = new MiningHarness(Options());
        using var alice = await harness.RegisterAsync("alice");
        var start = harness.Clock.GetUtcNow();
        var job = await harness.Mining.IssueJobAsync("alice");
        var header = Convert.FromHexString(job.Header);
        var nonce = 0UL;
        for (var second = 0; second < Seconds; second++)
        {
            if (harness.Clock.GetUtcNow() - job.Issued > TimeSpan.FromSeconds(500))
            {
                job = await harness.Mining.IssueJobAsync("alice");
                header = Convert.FromHexString(job.Header);
            }

            var found = new List<ulong>();
            for (var i = 0; i < Rate; i++, nonce++)
            {
                if (ShareHash.Meets(header, nonce, job.DifficultyBits))
                {
                    found.Add(nonce);
                }
            }

            await harness.SubmitAsync(alice, "alice", true, new JobShares(job.Header, found));
            harness.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        await harness.AccountAllAsync();
        var epoch = harness.Options.EpochOf(start);
        Assert.Equal(epoch, harness.Options.EpochOf(harness.Clock.GetUtcNow()));
        var (account, _) = await harness.Accountant.LoadAsync("alice", epoch);
        var power = new ResourcePower(account.ShareWork, account.OnlineBuckets(harness.Options.HeartbeatBridgeBuckets), harness.Options.BucketSeconds, 1);

        Assert.Equal(Seconds, power.OnlineBuckets);
        Assert.InRange(power.HashRate, Rate * 0.9, Rate * 1.1);
    }

    /// <summary>A table store whose power table fails writes while told to (a crash between the two writes of accounting).</summary>
    private sealed class FailingPowerTables(ITableServiceClient inner, Func<bool> failing) : ITableServiceClient
    {
        public ITableClient GetTableClient(string tableName) =>
            tableName.EndsWith("power", StringComparison.Ordinal) ? new FailingTable(inner.GetTableClient(tableName), failing) : inner.GetTableClient(tableName);

        private sealed class FailingTable(ITableClient inner, Func<bool> failing) : DelegatingTableClient(inner)
        {
            public override Task<string> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode, CancellationToken cancellationToken = default) =>
                failing() ? throw new TableStoreException(503, "ServerBusy", "injected: the store went away") : base.UpsertEntityAsync(entity, mode, cancellationToken);
        }
    }
}
