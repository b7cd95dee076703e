using Btmc.Ledger;
using Xunit;

namespace Btmc.Trade.Tests;

/// <summary>The trade chain's rules, on the pure state (docs/trade.md).</summary>
public sealed class TradeStateTests
{
    private const string Gtin = "04012345111118";
    private static readonly DateOnly Due = new(2027, 1, 31);

    [Fact]
    public void Check_InvoiceOverTheOrderedQuantity_ConflictNamingTheLine()
    {
        var state = WithOrder(out var order, quantity: 10);
        Seal(state, Invoice(order, "INV-1", 6));

        var refused = Assert.Throws<Refused>(() => state.Check(Invoice(order, "INV-2", 5)));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal("lines/0/quantity", refused.Field);
        Assert.Contains("6 are invoiced already", refused.Message, StringComparison.Ordinal);
        state.Check(Invoice(order, "INV-2", 4));
    }

    [Fact]
    public void Check_DocumentOfAnotherBuyerOrAnUnorderedGtin_Refused()
    {
        var state = WithOrder(out var order);

        Assert.Equal("order", Assert.Throws<Refused>(() => state.Check(Invoice(order, "INV-1", 1) with { Buyer = "rival" })).Field);
        Assert.Equal("lines/0/gtin", Assert.Throws<Refused>(() => state.Check(Invoice(order, "INV-1", 1) with { Lines = [new TradeLine("04012345222227", 1, 1m)] })).Field);
        Assert.Equal("order", Assert.Throws<Refused>(() => state.Check(Invoice(order, "INV-1", 1) with { Order = "trade:order:modmaker:none" })).Field);
    }

    [Fact]
    public void Check_SecondBusinessTransactionUse_Conflict()
    {
        var state = WithOrder(out var order);

        var refused = Assert.Throws<Refused>(() => state.Check(Invoice(order, "INV-1", 1) with { BizTransaction = order.BizTransaction }));

        Assert.Equal("bizTransaction", refused.Field);
    }

    [Fact]
    public void Check_FinancingTwice_SecondConflictNamesTheHolder()
    {
        var state = Offered(out var offer, requireAcknowledgement: false);
        Seal(state, new FinancingRecord(offer.Receivable, "bank-a", offer.Amount, offer.Currency));

        var refused = Assert.Throws<Refused>(() => state.Check(new FinancingRecord(offer.Receivable, "bank-b", offer.Amount, offer.Currency)));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Contains("bank-a", refused.Message, StringComparison.Ordinal);
        Assert.Equal("financed", state.Receivables[offer.Receivable].Status);
    }

    [Fact]
    public void Check_FinancingBeforeARequiredAcknowledgement_Conflict()
    {
        var state = Offered(out var offer, requireAcknowledgement: true);

        Assert.Contains("acknowledges", Assert.Throws<Refused>(() => state.Check(new FinancingRecord(offer.Receivable, "bank-a", offer.Amount, offer.Currency))).Message, StringComparison.Ordinal);

        Seal(state, new AcknowledgementRecord(offer.Invoice, new string('0', 64), "modmaker", "jws", new EcPublicJwk("EC", "P-256", "x", "y")));
        state.Check(new FinancingRecord(offer.Receivable, "bank-a", offer.Amount, offer.Currency));
    }

    [Theory]
    [InlineData("INV-1", "1250", true)]
    [InlineData("inv 1", "1250.00", true)]
    [InlineData("INV-1", "1250.01", false)]
    [InlineData("INV-2", "1250", false)]
    public void Fingerprint_RespelledNumberOrAmount_SameOnlyForTheSameInvoice(string number, string amount, bool same)
    {
        var first = TradeState.Fingerprint("fab", "modmaker", "INV-1", 1250m, "EUR");

        var second = TradeState.Fingerprint("fab", "modmaker", number, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), "EUR");

        Assert.Equal(same, first == second);
    }

    [Fact]
    public void Check_OfferOfTheSameInvoiceRespelled_ConflictNamingTheFirstReceivable()
    {
        var state = Offered(out var offer, requireAcknowledgement: false, ordered: 200);
        var respelled = Invoice(state.Find<OrderRecord>("trade:order:modmaker:PO-1")!, "inv 1", 100);
        Seal(state, respelled);

        var refused = Assert.Throws<Refused>(() => state.Check(new ReceivableRecord("R-2", respelled.Id, "fab", "modmaker", "inv 1", offer.Amount, "EUR", false)));

        Assert.Equal("invoice", refused.Field);
        Assert.Contains("R-1", refused.Message, StringComparison.Ordinal);
        state.Check(new ReceivableRecord("R-2", respelled.Id, "fab", "modmaker", "inv 1", offer.Amount, "EUR", false) with { Amount = 1249m });
    }

    [Fact]
    public void Apply_RepaymentsAndRelease_ReleasedForGood()
    {
        var state = Offered(out var offer, requireAcknowledgement: false);
        Seal(state, new FinancingRecord(offer.Receivable, "bank-a", offer.Amount, offer.Currency));
        Seal(state, new RepaymentRecord(offer.Receivable, "PAY-1", 1000m, "EUR", "modmaker"));
        Assert.Equal("currency", Assert.Throws<Refused>(() => state.Check(new RepaymentRecord(offer.Receivable, "PAY-2", 250m, "USD", "modmaker"))).Field);
        Seal(state, new RepaymentRecord(offer.Receivable, "PAY-2", 250m, "EUR", "bank-a"));
        Seal(state, new ReleaseRecord(offer.Receivable, "bank-a", 1250m, "EUR"));

        Assert.Equal("released", state.Receivables[offer.Receivable].Status);
        Assert.Equal(1250m, state.Receivables[offer.Receivable].Repaid);
        Assert.Throws<Refused>(() => state.Check(new FinancingRecord(offer.Receivable, "bank-b", offer.Amount, offer.Currency)));
        Assert.Throws<Refused>(() => state.Check(new RepaymentRecord(offer.Receivable, "PAY-3", 1m, "EUR", "modmaker")));
    }

    [Fact]
    public void Apply_RecordThatDoesNotApply_DamagedChain()
    {
        var state = new TradeState();

        var ex = Assert.Throws<InvalidOperationException>(() => Seal(state, new FinancingRecord("R-9", "bank-a", 1m, "EUR")));

        Assert.Contains("R-9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToJson_Record_RoundTripsWithItsIdInTheStoredBytes()
    {
        var state = WithOrder(out var order);
        var invoice = Invoice(order, "INV-1", 3);

        var json = invoice.ToJson();

        Assert.Equal(invoice.Id, System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("id").GetString());
        Assert.Equal(json, TradeRecord.FromJson(json).ToJson());
        Assert.Throws<FormatException>(() => TradeRecord.FromJson("{\"type\":\"nothing\"}"u8));
        state.Check(invoice);
    }

    private static long _leaf;

    private static void Seal(TradeState state, TradeRecord record) =>
        state.Apply(record, record.ToJson(), new TradePosition(0, Interlocked.Increment(ref _leaf)));

    private static TradeState WithOrder(out OrderRecord order, long quantity = 100)
    {
        var state = new TradeState();
        order = new OrderRecord("PO-1", "modmaker", "fab", [new TradeLine(Gtin, quantity, 12.50m)], "EUR", quantity * 12.50m, "urn:btmc:trade:order:modmaker:PO-1", "modmaker");
        Seal(state, order);
        return state;
    }

    private static InvoiceRecord Invoice(OrderRecord order, string number, long quantity) =>
        new(number, order.Buyer, order.Seller, order.Id, [new TradeLine(Gtin, quantity, 12.50m)], "EUR", quantity * 12.50m, Due, $"urn:btmc:trade:invoice:fab:{number.Replace(' ', '-')}", "fab");

    private static TradeState Offered(out ReceivableRecord offer, bool requireAcknowledgement, long ordered = 100)
    {
        var state = WithOrder(out var order, ordered);
        var invoice = Invoice(order, "INV-1", 100);
        Seal(state, invoice);
        offer = new ReceivableRecord("R-1", invoice.Id, "fab", "modmaker", "INV-1", invoice.Amount, "EUR", requireAcknowledgement);
        Seal(state, offer);
        return state;
    }
}
