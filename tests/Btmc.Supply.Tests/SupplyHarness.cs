using System.Text;
using Btmc.Chains;
using Btmc.Ledger.Dpos;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;
using Xunit;

namespace Btmc.Supply.Tests;

/// <summary>A supply backend over the real embedded adapters in a temporary folder; sealers are driven by hand.</summary>
internal sealed class SupplyHarness : IAsyncDisposable
{
    private readonly string _directory;

    private SupplyHarness(string directory, SupplyOptions options, Func<ITableServiceClient, ITableServiceClient>? wrap, TimeProvider? time)
    {
        _directory = directory;
        Options = options;
        Tables = new SqliteTableServiceClient(Path.Combine(directory, "tables.db"));
        Log = new FileEventLog(Path.Combine(directory, "log"), options.Partitions);
        Signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(directory, "producer.pem"));
        // One producer owns every slot; slots are short so that hand-driven sealing does not wait long.
        var producer = new ProducerCandidate("test-producer", Signer.PublicKey, 0);
        Rules = new DposRules(new SlotClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000, SlotClock.MinSlotMilliseconds), "btmc/test/governance", _ => [producer]);
        Scheduler = new BlockScheduler(Rules, new ProducerKeyring([Signer]), TimeProvider.System);
        Backend = new SupplyBackend(options, wrap?.Invoke(Tables) ?? Tables, Log, Scheduler, time);
    }

    public SupplyOptions Options { get; }

    public SqliteTableServiceClient Tables { get; }

    public FileEventLog Log { get; }

    public LocalKeyFileSigner Signer { get; }

    public DposRules Rules { get; }

    public BlockScheduler Scheduler { get; }

    public SupplyBackend Backend { get; }

    public static async Task<SupplyHarness> StartAsync(int partitions = 1, int sealMaxEvents = 1000, Func<ITableServiceClient, ITableServiceClient>? wrap = null, TimeProvider? time = null)
    {
        var options = new SupplyOptions { Partitions = partitions, SealMaxEvents = sealMaxEvents };
        var harness = new SupplyHarness(Directory.CreateTempSubdirectory("btmc-supply-").FullName, options, wrap, time);
        await harness.Backend.StartAsync();
        return harness;
    }

    /// <summary>A second backend over the same storage, as after a restart (optionally with other settings).</summary>
    public SupplyBackend Restart(int sealMaxEvents, ITableServiceClient? tables = null) =>
        new(new SupplyOptions { Partitions = Options.Partitions, SealMaxEvents = sealMaxEvents }, tables ?? Tables, Log, Scheduler);

    /// <summary>
    /// Another server over the same tables, with its own memory (pending events, locks) and its own event log
    /// (<paramref name="log"/>, else this one's): what it knows of this backend's accepted events is only what the
    /// tables say. Not started, so it captures whatever log it has (no sealing-log claim).
    /// </summary>
    public SupplyBackend SecondServer(TimeProvider? time = null, IEventLog? log = null) =>
        new(Options, Tables, log ?? Log, Scheduler, time);

    public async Task<CaptureAccepted> CaptureAsync(params string[] epcs)
    {
        var outcome = await Backend.Capture.CaptureAsync("partner-a", Document(epcs));
        return Assert.IsType<CaptureAccepted>(outcome);
    }

    public static byte[] Document(params string[] epcs) => Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" +
        string.Join(",", epcs.Select(epc => $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\",\"epcList\":[\"{epc}\"]}}")) +
        "]}}");

    public static string[] Epcs(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => $"urn:epc:id:sgtin:0614141.{prefix.PadLeft(6, '0')}.{i}").ToArray();

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        Tables.Dispose();
        Signer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
