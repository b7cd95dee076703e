using System.Net;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Supply.Receipts;
using Btmc.Trade;
using Xunit;
using static Btmc.Functions.Tests.Trade.TradeScenario;

namespace Btmc.Functions.Tests.Trade;

/// <summary>Trade documents and receivables finance over HTTP on one server (docs/trade.md).</summary>
public sealed class TradeEndpointsTests
{
    [Fact]
    public async Task Finance_ShippedInvoiceRacedByTwoBanks_OneGrantTheOther409WithoutTheHolderThenRepaidAndReleased()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await RegisterAsync(server);
        var order = await OrderAsync(server, "PO-1");
        var orderUri = order.GetProperty("record").GetProperty("bizTransaction").GetString()!;
        await server.CaptureSealedAsPartnerAsync(Fab, Commissioning(3), Shipping(3, [("po", orderUri)]));
        var invoice = await InvoiceAsync(server, "INV-1", order.GetProperty("id").GetString()!);
        var invoiceId = invoice.GetProperty("id").GetString()!;
        Assert.True(invoice.GetProperty("backing").GetProperty("backed").GetBoolean(), invoice.ToString());
        Assert.Equal(1250m, invoice.GetProperty("record").GetProperty("amount").GetDecimal());

        (await server.PostAsync(Fab, "api/finance/receivables", new { id = "R-1", invoice = invoiceId })).Expect(HttpStatusCode.Created);
        var race = await Task.WhenAll(new[] { BankA, BankB }.Select(bank => Task.Run(() => server.PostAsync(bank, "api/finance/receivables/R-1/financing", new { }))));
        var won = Assert.Single(race, r => r.Status == HttpStatusCode.Created);
        var lost = Assert.Single(race, r => r.Status == HttpStatusCode.Conflict);
        var holder = won.Body.GetProperty("record").GetProperty("financier").GetString()!;
        var loser = holder == BankA ? BankB : BankA;
        Assert.Equal("receivable", lost.Body.GetProperty("field").GetString());
        Assert.DoesNotContain(holder, lost.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The holder asking again gets its grant; the seller offering the same invoice again learns who holds it.
        Assert.Equal(holder, (await server.PostAsync(holder, "api/finance/receivables/R-1/financing", new { })).Expect(HttpStatusCode.OK).GetProperty("record").GetProperty("financier").GetString());
        var again = (await server.PostAsync(Fab, "api/finance/receivables", new { id = "R-2", invoice = invoiceId })).Expect(HttpStatusCode.Conflict);
        Assert.Contains("R-1", again.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(holder, again.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Once financed, the losing bank no longer sees the receivable; the parties do.
        (await server.GetAsync(loser, "api/finance/receivables/R-1")).Expect(HttpStatusCode.NotFound);
        (await server.GetAsync(Rival, "api/finance/receivables/R-1")).Expect(HttpStatusCode.NotFound);
        var bundle = ReceivableBundle.FromJson((await server.GetAsync(ModuleMaker, "api/finance/receivables/R-1")).Expect(HttpStatusCode.OK).GetRawText());
        Assert.Equal(holder, bundle.Receivable.Holder);
        Assert.Single(bundle.Events);
        var verified = ReceivableVerifier.Verify(bundle);
        Assert.True(verified.IsValid, verified.Failure);
        Assert.Contains("holder", ReceivableVerifier.Verify(bundle with { Receivable = bundle.Receivable with { Holder = loser } }).Failure, StringComparison.Ordinal);
        Assert.Contains("financed", ReceivableVerifier.Verify(bundle with { Records = bundle.Records.Where(r => !r.EventId.StartsWith("trade:financing:", StringComparison.Ordinal)).ToList() }).Failure, StringComparison.Ordinal);
        Assert.Contains("goes to the buyer", ReceivableVerifier.Verify(bundle with { Events = [] }).Failure, StringComparison.Ordinal);
        Assert.Contains("lacks", ReceivableVerifier.Verify(bundle with { Receivable = null! }).Failure, StringComparison.Ordinal);

        var partial = (await server.PostAsync(ModuleMaker, "api/finance/receivables/R-1/repayments", new { reference = "PAY-1", amount = 1000m })).Expect(HttpStatusCode.Created);
        Assert.Equal("financed", partial.GetProperty("receivable").GetProperty("status").GetString());
        (await server.PostAsync(ModuleMaker, "api/finance/receivables/R-1/repayments", new { reference = "PAY-1", amount = 1000m })).Expect(HttpStatusCode.OK);
        var full = (await server.PostAsync(holder, "api/finance/receivables/R-1/repayments", new { reference = "PAY-2", amount = 250m })).Expect(HttpStatusCode.Created);
        Assert.Equal("released", full.GetProperty("receivable").GetProperty("status").GetString());
        (await server.PostAsync(loser, "api/finance/receivables/R-1/financing", new { })).Expect(HttpStatusCode.Conflict);

        var released = ReceivableBundle.FromJson((await server.GetAsync(holder, "api/finance/receivables/R-1")).Expect(HttpStatusCode.OK).GetRawText());
        Assert.True(ReceivableVerifier.Verify(released).IsValid, ReceivableVerifier.Verify(released).Failure);
        Assert.Equal("released", released.Receivable.Status);
    }

    [Fact]
    public async Task RecordInvoice_NoShipmentToTheBuyer_FlaggedUnbackedNotRefused()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await RegisterAsync(server);
        var order = await OrderAsync(server, "PO-2");
        await server.CaptureSealedAsPartnerAsync(Fab, Commissioning(2), Shipping(2, [("po", order.GetProperty("record").GetProperty("bizTransaction").GetString()!)], to: "urn:epc:id:pgln:4055555.00000"));

        var invoice = await InvoiceAsync(server, "INV-2", order.GetProperty("id").GetString()!);

        var backing = invoice.GetProperty("backing");
        Assert.False(backing.GetProperty("backed").GetBoolean(), invoice.ToString());
        var linked = Assert.Single(backing.GetProperty("events").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, linked.TryGetProperty("buyerDestination", out var d) ? d.ValueKind : JsonValueKind.Null);
    }

    [Fact]
    public async Task RecordDocuments_BadInputAndWrongCallers_ProblemNamingTheMember()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await RegisterAsync(server);
        var badGtin = (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = new[] { new { gtin = "04012345111119", quantity = 1, unitPrice = 1m } } }))
            .Expect(HttpStatusCode.BadRequest);
        Assert.Equal("lines/0/gtin", badGtin.GetProperty("field").GetString());
        Assert.Equal("currency", (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "euro", lines = Lines(1, 1m) }))
            .Expect(HttpStatusCode.BadRequest).GetProperty("field").GetString());
        Assert.Equal("lines/0/quantity", (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = new[] { new { gtin = Gtin, quantity = "many", unitPrice = 1m } } }))
            .Expect(HttpStatusCode.BadRequest).GetProperty("field").GetString());
        (await server.PostAsync(Rival, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = Lines(1, 1m) })).Expect(HttpStatusCode.Forbidden);

        var order = await OrderAsync(server, "PO-3", quantity: 10);
        var orderId = order.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = Lines(10, 12.50m) })).Status);
        Assert.Equal("number", (await server.PostAsync(ModuleMaker, "api/trade/orders", new { number = "PO-3", buyer = ModuleMaker, seller = Fab, currency = "EUR", lines = Lines(11, 12.50m) }))
            .Expect(HttpStatusCode.Conflict).GetProperty("field").GetString());
        (await server.PostAsync(ModuleMaker, "api/trade/invoices", new { number = "INV-3", order = orderId, lines = Lines(10, 12.50m), dueDate = "2027-01-31" })).Expect(HttpStatusCode.Forbidden);
        (await server.GetAsync(Rival, "api/trade/records/" + orderId)).Expect(HttpStatusCode.NotFound);
        (await server.GetAsync(BankA, "api/trade/records/" + orderId)).Expect(HttpStatusCode.NotFound);

        await InvoiceAsync(server, "INV-3", orderId, quantity: 6);
        Assert.Equal("lines/0/quantity", (await server.PostAsync(Fab, "api/trade/invoices", new { number = "INV-4", order = orderId, lines = Lines(5, 12.50m), dueDate = "2027-01-31" }))
            .Expect(HttpStatusCode.Conflict).GetProperty("field").GetString());
        (await server.PostAsync(Fab, "api/finance/receivables/none/financing", new { })).Expect(HttpStatusCode.Forbidden);
        (await server.PostAsync(BankA, "api/finance/receivables/none/financing", new { })).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Finance_RequiresAcknowledgement_GrantedOnlyAfterTheBuyerSignsTheInvoiceAsSealed()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        using var buyerKey = await RegisterAsync(server);
        var order = await OrderAsync(server, "PO-5");
        var invoiceId = (await InvoiceAsync(server, "INV-5", order.GetProperty("id").GetString()!)).GetProperty("id").GetString()!;
        (await server.PostAsync(Fab, "api/finance/receivables", new { id = "R-5", invoice = invoiceId, requireAcknowledgement = true })).Expect(HttpStatusCode.Created);
        (await server.PostAsync(BankA, "api/finance/receivables/R-5/financing", new { })).Expect(HttpStatusCode.Conflict);

        var receipt = Receipt.FromJson((await server.GetAsync(ModuleMaker, "api/trade/receipts/" + invoiceId)).Expect(HttpStatusCode.OK).GetRawText());
        var sealedBytes = Convert.FromBase64String(receipt.Record!);
        Assert.Equal("signature", (await server.PostAsync(ModuleMaker, "api/trade/acknowledgements", new { invoice = invoiceId, signature = DetachedJws.Sign(buyerKey, [.. sealedBytes, (byte)' ']) }))
            .Expect(HttpStatusCode.BadRequest).GetProperty("field").GetString());
        (await server.PostAsync(Fab, "api/trade/acknowledgements", new { invoice = invoiceId, signature = DetachedJws.Sign(buyerKey, sealedBytes) })).Expect(HttpStatusCode.Forbidden);
        (await server.PostAsync(ModuleMaker, "api/trade/acknowledgements", new { invoice = invoiceId, signature = DetachedJws.Sign(buyerKey, sealedBytes) })).Expect(HttpStatusCode.Created);

        (await server.PostAsync(BankB, "api/finance/receivables/R-5/financing", new { requireAcknowledgement = true })).Expect(HttpStatusCode.Created);
        var bundle = ReceivableBundle.FromJson((await server.GetAsync(BankB, "api/finance/receivables/R-5")).Expect(HttpStatusCode.OK).GetRawText());
        Assert.True(bundle.Receivable.Acknowledged);
        Assert.False(bundle.Receivable.Backed);
        Assert.True(ReceivableVerifier.Verify(bundle).IsValid, ReceivableVerifier.Verify(bundle).Failure);
    }

    [Fact]
    public async Task GetTradeReceipt_Record_VerifiesOfflineAndFailsWhenTheRecordIsAltered()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await RegisterAsync(server);
        var orderId = (await OrderAsync(server, "PO-6")).GetProperty("id").GetString()!;

        var receipt = Receipt.FromJson((await server.GetAsync(Fab, "api/trade/receipts/" + orderId)).Expect(HttpStatusCode.OK).GetRawText());

        Assert.Equal(Receipt.RecordFormat, receipt.Format);
        Assert.True(ReceiptVerifier.Verify(receipt).IsValid, ReceiptVerifier.Verify(receipt).Failure);
        var altered = Convert.FromBase64String(receipt.Record!);
        altered[Array.IndexOf(altered, (byte)'1')] = (byte)'9';
        Assert.Contains("SHA-256", ReceiptVerifier.Verify(receipt with { Record = Convert.ToBase64String(altered) }).Failure, StringComparison.Ordinal);
        Assert.NotNull(ReceiptVerifier.Verify(receipt with { Format = Receipt.CheckpointFormat }).Failure);
        (await server.GetAsync(BankA, "api/trade/receipts/" + orderId)).Expect(HttpStatusCode.NotFound);
    }
}
