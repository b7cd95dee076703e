using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Btmc.Testing;
using Btmc.Trade;
using Xunit;
using static Btmc.Functions.Tests.Trade.TradeScenario;

namespace Btmc.Functions.Tests.Trade;

/// <summary>
/// The acceptance journey of docs/trade.md, over HTTP with the CLI, on two server processes over one Azurite table
/// store: a fab sells a lot of chips to a module maker (order, shipment events, invoice), offers the invoice for
/// finance, two banks race to finance it on the two servers and exactly one wins, an offer of the same invoice under
/// another id is caught, repayment releases it, ownership follows the shipment (the fab may not ship the chips again),
/// and every proof verifies offline.
/// </summary>
public sealed class TradeJourneyTests
{
    private const int RequestsPerBank = 4;

    [Fact]
    public async Task Journey_LotSoldShippedInvoicedAndFinancedOnTwoServers_OneBankWinsAndEveryProofVerifiesOffline()
    {
        using var folders = new TempDirectory();
        string[] settings = ["--Tables:ConnectionString", EventHubsSealingTests.AzuriteConnectionString(), "--Supply:TablePrefix", "j" + Guid.NewGuid().ToString("N")[..12],
            "--Producers:0:Id", "local-producer", "--Producers:0:Key", Path.Combine(folders.Path, "producer.pem")];
        // One after the other: the first creates the shared producer key file and seals from its log (the other
        // serves reads, governance and trade, and refuses captures).
        await using var first = await LocalServer.StartProcessAsync(Directory.CreateDirectory(Path.Combine(folders.Path, "s0")).FullName, settings);
        await using var second = (await LocalServer.StartProcessAsync(Directory.CreateDirectory(Path.Combine(folders.Path, "s1")).FullName, settings)).CopyKeysFrom(first);
        try
        {
            await JourneyAsync(first, second, folders);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"{ex}\n--- server 0 ---\n{first.ProcessOutput}\n--- server 1 ---\n{second.ProcessOutput}");
        }
    }

    private static async Task JourneyAsync(LocalServer first, LocalServer second, TempDirectory folders)
    {
        using var buyerKey = await RegisterAsync(first);
        var buyerPem = Path.Combine(folders.Path, "modmaker.pem");
        await File.WriteAllTextAsync(buyerPem, buyerKey.ExportPkcs8PrivateKeyPem());
        await UntilAsync(async () => (await second.GetAsync(BankB, "api/finance/receivables")).Status == HttpStatusCode.OK, "the second server to read the new partners");

        // The module maker orders 100 chips; the fab commissions and ships them naming the order and the invoice to come.
        var order = Json(await Cli(0, "trade", "order", "--url", first.BaseUrl, "--api-key", Key(ModuleMaker), "--number", "PO-100",
            "--buyer", ModuleMaker, "--seller", Fab, "--currency", "EUR", "--line", $"{Gtin}:100:12.50"));
        const string invoiceId = "trade:invoice:fab:INV-100";
        var shipment = await first.CaptureSealedAsPartnerAsync(Fab, Commissioning(100),
            Shipping(100, [("po", order.GetProperty("record").GetProperty("bizTransaction").GetString()!), ("inv", "urn:btmc:" + invoiceId)]));
        // Ownership follows the shipment: the module maker owns and holds the chips now, provably offline.
        var asset = Json(await Cli(0, "asset", Chip(42), "--url", second.BaseUrl, "--api-key", Key(ModuleMaker)));
        Assert.Equal(ModuleMaker, asset.GetProperty("owner").GetProperty("partnerId").GetString());
        Assert.Equal(ModuleMaker, asset.GetProperty("custodian").GetProperty("partnerId").GetString());
        Assert.Contains(asset.GetProperty("history").EnumerateArray(), h => h.GetProperty("eventId").GetString() == shipment[1]);
        var assetBundle = Path.Combine(folders.Path, "chip-42.json");
        await Cli(0, "asset", Chip(42), "--proof", "--out", assetBundle, "--url", first.BaseUrl, "--api-key", Key(ModuleMaker));
        await Cli(0, "verify-lineage", assetBundle);
        var resold = await first.CaptureAsync(CaptureEndpointsTests.Document(Shipping(1, [], minute: 2, to: "urn:epc:id:pgln:4055555.00000")), Fab);
        Assert.True(resold.Status == HttpStatusCode.Conflict, $"{(int)resold.Status} {resold.Body}");
        Assert.Contains(ModuleMaker, resold.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var invoice = Json(await Cli(0, "trade", "invoice", "--url", second.BaseUrl, "--api-key", Key(Fab), "--number", "INV-100",
            "--order", order.GetProperty("id").GetString()!, "--line", $"{Gtin}:100:12.50", "--due", "2027-01-31"));
        Assert.Equal(invoiceId, invoice.GetProperty("id").GetString());
        Assert.True(invoice.GetProperty("backing").GetProperty("backed").GetBoolean(), invoice.ToString());
        await Cli(0, "trade", "acknowledge", invoiceId, "--signing-key", buyerPem, "--url", second.BaseUrl, "--api-key", Key(ModuleMaker));
        await Cli(0, "finance", "offer", invoiceId, "--id", "LOT-100", "--require-acknowledgement", "--url", first.BaseUrl, "--api-key", Key(Fab));

        // Two banks, each asking several times at once, one on each server: one grant, sealed once.
        var requests = Enumerable.Range(0, 2 * RequestsPerBank).Select(i => (Bank: i % 2 == 0 ? BankA : BankB, Server: i % 2 == 0 ? first : second)).ToList();
        var answers = await Task.WhenAll(requests.Select(r => Task.Run(() => CliRun.BtmcAsync("finance", "request", "LOT-100", "--require-acknowledgement", "--url", r.Server.BaseUrl, "--api-key", Key(r.Bank)))));
        var granted = requests.Zip(answers).Where(x => x.Second.Exit == 0).Select(x => x.First.Bank).Distinct().ToList();
        Assert.True(granted.Count == 1, string.Join("\n", requests.Zip(answers).Select(x => $"{x.First.Bank}: {x.Second.Exit} {x.Second.Output} {x.Second.Error}")));
        var holder = granted[0];
        var loser = holder == BankA ? BankB : BankA;
        Assert.All(requests.Zip(answers).Where(x => x.First.Bank == loser), x =>
        {
            Assert.True(x.Second.Exit == 1, x.Second.Output + x.Second.Error);
            Assert.Contains("409", x.Second.Error, StringComparison.Ordinal);
            Assert.DoesNotContain(holder, x.Second.Error, StringComparison.Ordinal);
        });
        Assert.Single(answers, a => a.Exit == 0 && Json(a).GetProperty("created").GetBoolean());

        // The same invoice offered again under another id: caught, naming the first receivable and its holder.
        var duplicate = await Cli(1, "finance", "offer", invoiceId, "--id", "LOT-100-B", "--url", second.BaseUrl, "--api-key", Key(Fab));
        Assert.Contains("LOT-100", duplicate.Error, StringComparison.Ordinal);
        Assert.Contains(holder, duplicate.Error, StringComparison.Ordinal);

        var repaid = Json(await Cli(0, "finance", "repay", "LOT-100", "--amount", "1250", "--reference", "WIRE-1", "--url", second.BaseUrl, "--api-key", Key(ModuleMaker)));
        Assert.Equal("released", repaid.GetProperty("receivable").GetProperty("status").GetString());

        // Every proof offline: the receivable bundle, a record's receipt, the shipment's receipt, and the chains.
        var bundle = Path.Combine(folders.Path, "lot-100.json");
        await Cli(0, "finance", "status", "LOT-100", "--out", bundle, "--url", first.BaseUrl, "--api-key", Key(holder));
        var verified = await Cli(0, "finance", "verify", bundle);
        Assert.Contains($"released, held by {holder}", verified.Output, StringComparison.Ordinal);
        Assert.Contains("backed by a shipment to the buyer", verified.Output, StringComparison.Ordinal);
        var stored = ReceivableBundle.FromJson(await File.ReadAllTextAsync(bundle));
        Assert.Equal(7, stored.Records.Count); // offer, invoice, order, acknowledgement, grant, repayment, release
        await File.WriteAllTextAsync(bundle, (await File.ReadAllTextAsync(bundle)).Replace("\"amount\": 1250", "\"amount\": 1350", StringComparison.Ordinal));
        await Cli(1, "finance", "verify", bundle);

        var receipt = Path.Combine(folders.Path, "financing.json");
        await Cli(0, "trade", "receipt", "trade:financing:LOT-100", "--out", receipt, "--url", second.BaseUrl, "--api-key", Key(ModuleMaker));
        Assert.Contains("OK: trade:financing:LOT-100 is leaf", (await Cli(0, "verify-receipt", receipt)).Output, StringComparison.Ordinal);
        var shipped = Path.Combine(folders.Path, "shipping.json");
        await Cli(0, "receipt", shipment[1], "--out", shipped, "--url", first.BaseUrl, "--api-key", Key(ModuleMaker));
        await Cli(0, "verify-receipt", shipped);
        var chains = await Cli(0, "verify-chain", "--url", second.BaseUrl, "--api-key", File.ReadAllText(first.OperatorKeyFile).Trim());
        Assert.Contains(TradeLedger.ChainId, chains.Output, StringComparison.Ordinal);
    }

    private static string Key(string partner) => LocalServer.PartnerApiKey(partner);

    private static JsonElement Json((int Exit, string Output, string Error) run) => JsonDocument.Parse(run.Output).RootElement.Clone();

    /// <summary>Runs btmc and expects <paramref name="exit"/>; the message shows what it printed otherwise.</summary>
    private static async Task<(int Exit, string Output, string Error)> Cli(int exit, params string[] args)
    {
        var run = await CliRun.BtmcAsync(args);
        Assert.True(run.Exit == exit, $"btmc {string.Join(' ', args)} exited {run.Exit}, expected {exit}:\n{run.Output}\n{run.Error}");
        return run;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting for {what}");
            await timer.WaitForNextTickAsync();
        }
    }
}
