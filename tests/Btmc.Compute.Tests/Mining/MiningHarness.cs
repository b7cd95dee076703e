using Btmc.Compute.Mining;
using Btmc.Ledger;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Btmc.Compute.Tests.Mining;

/// <summary>Mining over the real embedded adapters (SQLite tables, the file event log) with a hand-driven clock.</summary>
internal sealed class MiningHarness : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();

    public MiningHarness(ComputeOptions options, Func<ITableServiceClient, ITableServiceClient>? wrap = null)
    {
        Options = options;
        Tables = new SqliteTableServiceClient(_directory.Combine("tables.db"));
        Log = new FileEventLog(_directory.Combine("mining-log"), options.Partitions);
        var tables = new ComputeTables(wrap?.Invoke(Tables) ?? Tables);
        ComputeTables = tables;
        Contributors = new Contributors(tables);
        Mining = new MiningService(tables, Contributors, options, new MiningLogPublisher(Log), Clock);
        Accountant = new MiningAccountant(tables, Contributors, options, Mining.JobSecretAsync, Clock);
    }

    public ComputeOptions Options { get; }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(1_780_000_000));

    public SqliteTableServiceClient Tables { get; }

    public ComputeTables ComputeTables { get; }

    public FileEventLog Log { get; }

    public Contributors Contributors { get; }

    public MiningService Mining { get; }

    public MiningAccountant Accountant { get; set; }

    public async Task<LocalKeyFileSigner> RegisterAsync(string id, SignatureAlgorithm curve = SignatureAlgorithm.ES256)
    {
        await ComputeTables.CreateIfNotExistsAsync();
        var key = LocalKeyFileSigner.OpenOrCreate(_directory.Combine(id + ".pem"), curve);
        var publicKey = key.PublicKey with { Kid = null };
        var signature = await key.SignDigestAsync(Contributors.RegistrationDigest(id, "gpu", publicKey));
        await Contributors.RegisterAsync(id, "gpu", publicKey, Convert.ToBase64String(signature), Clock.GetUtcNow());
        return key;
    }

    public async Task SubmitAsync(ISigningKey key, string contributor, bool heartbeat, params JobShares[] jobs)
    {
        var unsigned = new ShareSubmission(contributor, Clock.GetUtcNow().ToUnixTimeSeconds(), heartbeat, jobs, string.Empty);
        var signature = await key.SignDigestAsync(unsigned.Digest);
        await Mining.SubmitAsync(unsigned with { Signature = Convert.ToBase64String(signature) });
    }

    /// <summary>Every event of every partition, from the start.</summary>
    public async Task<AccountingOutcome> AccountAllAsync(MiningAccountant? accountant = null)
    {
        long accepted = 0, duplicates = 0, stale = 0, invalid = 0;
        int replayed = 0, unreadable = 0;
        for (var p = 0; p < Log.PartitionCount; p++)
        {
            var events = await Log.ReadAsync(p, 0, 100_000);
            var outcome = await (accountant ?? Accountant).AccountAsync(events.Select(e => new DeliveredMiningEvent(e.SequenceNumber, e.Body)).ToList());
            (accepted, duplicates, stale, invalid) = (accepted + outcome.Accepted, duplicates + outcome.Duplicates, stale + outcome.Stale, invalid + outcome.Invalid);
            (replayed, unreadable) = (replayed + outcome.Replayed, unreadable + outcome.Unreadable);
        }

        return new AccountingOutcome(accepted, duplicates, stale, invalid, replayed, unreadable);
    }

    /// <summary>The first <paramref name="count"/> nonces from <paramref name="from"/> that meet the job's difficulty.</summary>
    public static List<ulong> FindShares(MiningJob job, int count, ulong from = 0)
    {
        var header = Convert.FromHexString(job.Header);
        var found = new List<ulong>();
        for (var nonce = from; found.Count < count; nonce++)
        {
            if (ShareHash.Meets(header, nonce, job.DifficultyBits))
            {
                found.Add(nonce);
            }
        }

        return found;
    }

    /// <summary>A nonce that does not meet the job's difficulty.</summary>
    public static ulong FindMiss(MiningJob job)
    {
        var header = Convert.FromHexString(job.Header);
        var nonce = 0UL;
        while (ShareHash.Meets(header, nonce, job.DifficultyBits))
        {
            nonce++;
        }

        return nonce;
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        Tables.Dispose();
        _directory.Dispose();
    }
}
