using System.Text.Json;
using System.Text.Json.Serialization;

namespace Btmc.Trade;

/// <summary>One line of a trade document: a GTIN (14 digits), how many, and the price of one.</summary>
public sealed record TradeLine(string Gtin, long Quantity, decimal UnitPrice)
{
    [JsonIgnore]
    public decimal Amount => Quantity * UnitPrice;
}

/// <summary>
/// An entry of the trade chain (docs/trade.md), stored as JSON exactly as sealed; its leaf is
/// <c>LedgerEntry(Id, SHA-256(stored JSON), Actor)</c>. Unlike the governance and compute records, the stored JSON
/// carries its own <see cref="Id"/>, so that a receipt's record can be tied to the leaf's id offline.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(OrderRecord), "order")]
[JsonDerivedType(typeof(DespatchRecord), "despatch")]
[JsonDerivedType(typeof(InvoiceRecord), "invoice")]
[JsonDerivedType(typeof(AcknowledgementRecord), "acknowledgement")]
[JsonDerivedType(typeof(ReceivableRecord), "receivable")]
[JsonDerivedType(typeof(FinancingRecord), "financing")]
[JsonDerivedType(typeof(RepaymentRecord), "repayment")]
[JsonDerivedType(typeof(ReleaseRecord), "release")]
public abstract record TradeRecord
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The record's ledger id (the leaf's id): <c>trade:{kind}:…</c>.</summary>
    public abstract string Id { get; }

    /// <summary>The partner the entry is attributed to (the leaf's partner field): who recorded it.</summary>
    [JsonIgnore]
    public abstract string Actor { get; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="FormatException">The bytes are not a trade record.</exception>
    public static TradeRecord FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<TradeRecord>(json, Json) ?? throw new FormatException("The trade record is null.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw new FormatException($"Not a trade record: {ex.Message}", ex);
        }
    }

    public static string OrderId(string buyer, string number) => $"trade:order:{buyer}:{number}";

    public static string DespatchId(string seller, string number) => $"trade:despatch:{seller}:{number}";

    public static string InvoiceId(string seller, string number) => $"trade:invoice:{seller}:{number}";

    public static string ReceivableId(string id) => $"trade:receivable:{id}";

    /// <summary>The id of the buyer's acknowledgement of <paramref name="invoiceId"/> (one per invoice).</summary>
    public static string AcknowledgementId(string invoiceId) =>
        "trade:acknowledgement:" + (invoiceId.StartsWith("trade:invoice:", StringComparison.Ordinal) ? invoiceId["trade:invoice:".Length..] : invoiceId);
}

/// <summary>A trade document: its number (unique per issuer), the two partners, lines, currency, the business
/// transaction URI that EPCIS events name it by in their <c>bizTransactionList</c>, and who recorded it.</summary>
public abstract record TradeDocument : TradeRecord
{
    public abstract string Number { get; init; }

    public abstract string Buyer { get; init; }

    public abstract string Seller { get; init; }

    public abstract IReadOnlyList<TradeLine> Lines { get; init; }

    public abstract string BizTransaction { get; init; }

    public abstract string RecordedBy { get; init; }

    [JsonIgnore]
    public override string Actor => RecordedBy;

    /// <summary>The CBV 2.0 business transaction type EPCIS events name this document with.</summary>
    [JsonIgnore]
    public abstract string BizTransactionType { get; }
}

/// <summary>A purchase order, numbered by its buyer, recorded by the buyer or the seller.</summary>
public sealed record OrderRecord(string Number, string Buyer, string Seller, IReadOnlyList<TradeLine> Lines, string Currency, decimal Total, string BizTransaction, string RecordedBy) : TradeDocument
{
    public override string Id => OrderId(Buyer, Number);

    public override string BizTransactionType => "po";
}

/// <summary>A despatch advice, numbered by its seller: the goods of an order that leave in one shipment.</summary>
public sealed record DespatchRecord(string Number, string Buyer, string Seller, string Order, IReadOnlyList<TradeLine> Lines, string BizTransaction, string RecordedBy) : TradeDocument
{
    public override string Id => DespatchId(Seller, Number);

    public override string BizTransactionType => "desadv";
}

/// <summary>An invoice, numbered by its seller, for goods of an order; <see cref="Amount"/> is the lines' total.</summary>
public sealed record InvoiceRecord(string Number, string Buyer, string Seller, string Order, IReadOnlyList<TradeLine> Lines, string Currency, decimal Amount, DateOnly DueDate, string BizTransaction, string RecordedBy) : TradeDocument
{
    public override string Id => InvoiceId(Seller, Number);

    public override string BizTransactionType => "inv";
}

/// <summary>
/// The buyer's acknowledgement of an invoice: a detached ES256 JWS (RFC 7515 appendix F) over the invoice record's
/// stored bytes, whose SHA-256 is <see cref="InvoiceSha256"/>, with the buyer's registered signing key it verified with.
/// </summary>
public sealed record AcknowledgementRecord(string Invoice, string InvoiceSha256, string Buyer, string Signature, Btmc.Ledger.EcPublicJwk SigningKey) : TradeRecord
{
    public override string Id => AcknowledgementId(Invoice);

    [JsonIgnore]
    public override string Actor => Buyer;
}

/// <summary>
/// An invoice offered for finance under the seller's chosen <see cref="Receivable"/> id: the invoice's parties, number
/// and amount (the duplicate check's fingerprint), and whether financiers must see the buyer's acknowledgement first.
/// </summary>
public sealed record ReceivableRecord(string Receivable, string Invoice, string Seller, string Buyer, string InvoiceNumber, decimal Amount, string Currency, bool RequireAcknowledgement) : TradeRecord
{
    public override string Id => ReceivableId(Receivable);

    [JsonIgnore]
    public override string Actor => Seller;
}

/// <summary>The grant of a receivable to the one financier whose request came first in ledger order.</summary>
public sealed record FinancingRecord(string Receivable, string Financier, decimal Amount, string Currency) : TradeRecord
{
    public override string Id => $"trade:financing:{Receivable}";

    [JsonIgnore]
    public override string Actor => Financier;
}

/// <summary>A payment towards a financed receivable, identified by its payment <see cref="Reference"/>.</summary>
public sealed record RepaymentRecord(string Receivable, string Reference, decimal Amount, string Currency, string RecordedBy) : TradeRecord
{
    public override string Id => $"trade:repayment:{Receivable}:{Reference}";

    [JsonIgnore]
    public override string Actor => RecordedBy;
}

/// <summary>The end of a financing: the repayments reached the financed amount, and the financier's claim is released.</summary>
public sealed record ReleaseRecord(string Receivable, string Financier, decimal Repaid, string Currency) : TradeRecord
{
    public override string Id => $"trade:release:{Receivable}";

    [JsonIgnore]
    public override string Actor => Financier;
}
