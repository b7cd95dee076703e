using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Btmc.Ledger;
using Xunit;

namespace Btmc.Functions.Tests.Trade;

/// <summary>
/// The trade scenario of docs/trade.md: a fab (prefix 4012345) sells chips to a module maker (prefix 4098765), two
/// banks finance receivables, a rival partner looks on. Chips are SGTINs of GTIN 04012345111118.
/// </summary>
internal static class TradeScenario
{
    public const string Fab = "fab";
    public const string ModuleMaker = "modmaker";
    public const string BankA = "bank-a";
    public const string BankB = "bank-b";
    public const string Rival = "rival";
    public const string Gtin = "04012345111118";
    public const string FabParty = "urn:epc:id:pgln:4012345.00000";
    public const string ModuleMakerParty = "urn:epc:id:pgln:4098765.00000";

    /// <summary>Registers the partners; returns the module maker's signing key (for acknowledgements).</summary>
    public static async Task<ECDsa> RegisterAsync(LocalServer server)
    {
        var buyerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await server.AddPartnerAsync(Fab, ["4012345"]);
        await server.AddPartnerAsync(ModuleMaker, ["4098765"], signingKey: EcPublicJwk.FromECDsa(buyerKey));
        await server.AddPartnerAsync(BankA, [], roles: ["financier"]);
        await server.AddPartnerAsync(BankB, [], roles: ["financier"]);
        await server.AddPartnerAsync(Rival, ["4055555"]);
        return buyerKey;
    }

    public static string Chip(int serial) => $"urn:epc:id:sgtin:4012345.011111.{serial}";

    /// <summary>The fab commissions chips 1..count.</summary>
    public static string Commissioning(int count, int minute = 0) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\"," +
        $"\"epcList\":{JsonSerializer.Serialize(Enumerable.Range(1, count).Select(Chip))},\"bizStep\":\"commissioning\",\"disposition\":\"active\"," +
        "\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"}}";

    /// <summary>The fab ships chips 1..count to the module maker, naming the order and invoice business transactions.</summary>
    public static string Shipping(int count, IEnumerable<(string Type, string Uri)> transactions, int minute = 1, string to = ModuleMakerParty) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{TestEvents.Time(minute)}\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\"," +
        $"\"epcList\":{JsonSerializer.Serialize(Enumerable.Range(1, count).Select(Chip))},\"bizStep\":\"shipping\",\"disposition\":\"in_transit\"," +
        "\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"}," +
        $"\"bizTransactionList\":{JsonSerializer.Serialize(transactions.Select(t => new { type = t.Type, bizTransaction = t.Uri }))}," +
        $"\"sourceList\":[{{\"type\":\"owning_party\",\"source\":\"{FabParty}\"}},{{\"type\":\"possessing_party\",\"source\":\"{FabParty}\"}}]," +
        $"\"destinationList\":[{{\"type\":\"owning_party\",\"destination\":\"{to}\"}},{{\"type\":\"possessing_party\",\"destination\":\"{to}\"}}]}}";

    public static object Lines(long quantity, decimal price) => new[] { new { gtin = Gtin, quantity, unitPrice = price } };

    /// <summary>Captures the events as one document as <paramref name="partner"/>, expects 202 and waits until they are sealed.</summary>
    public static async Task<IReadOnlyList<string>> CaptureSealedAsPartnerAsync(this LocalServer server, string partner, params string[] events)
    {
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events), partner);
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        return body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    /// <summary>POSTs JSON as <paramref name="partner"/>; returns the status and body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(this LocalServer server, string partner, string path, object body)
    {
        using var client = server.ClientAs(partner);
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(this LocalServer server, string partner, string path)
    {
        using var client = server.ClientAs(partner);
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Expects <paramref name="expected"/>; the message shows the body otherwise.</summary>
    public static JsonElement Expect(this (HttpStatusCode Status, JsonElement Body) answer, HttpStatusCode expected)
    {
        Assert.True(answer.Status == expected, $"expected {(int)expected}, got {(int)answer.Status}: {answer.Body}");
        return answer.Body;
    }

    /// <summary>The module maker orders <paramref name="quantity"/> chips from the fab at 12.50 EUR.</summary>
    public static async Task<JsonElement> OrderAsync(LocalServer server, string number, long quantity = 100) =>
        (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number, buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = Lines(quantity, 12.50m) }))
        .Expect(HttpStatusCode.Created);

    public static async Task<JsonElement> InvoiceAsync(LocalServer server, string number, string order, long quantity = 100) =>
        (await server.PostAsync(Fab, "api/trade/invoices", new { number, order, lines = Lines(quantity, 12.50m), dueDate = "2027-01-31" }))
        .Expect(HttpStatusCode.Created);
}
