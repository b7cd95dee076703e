using System.Globalization;
using System.Text.RegularExpressions;
using Btmc.Ledger;

namespace Btmc.Trade;

/// <summary>One line as a request states it.</summary>
public sealed record TradeLineRequest(string? Gtin, long? Quantity, decimal? UnitPrice);

/// <summary>A purchase order to record: numbered by its buyer; recorded by the buyer or the seller.</summary>
public sealed record OrderRequest(string? Number, string? Buyer, string? Seller, IReadOnlyList<TradeLineRequest>? Lines, string? Currency, string? BizTransaction);

/// <summary>A despatch advice or an invoice to record, by the order's seller: its number, the order (its record id),
/// its lines, and for an invoice the due date.</summary>
public sealed record SellerDocumentRequest(string? Number, string? Order, IReadOnlyList<TradeLineRequest>? Lines, string? BizTransaction, DateOnly? DueDate = null);

/// <summary>The buyer's acknowledgement of an invoice: the detached ES256 JWS over the invoice record's stored bytes.</summary>
public sealed record AcknowledgementRequest(string? Invoice, string? Signature);

/// <summary>An invoice offered for finance under the seller's receivable id.</summary>
public sealed record OfferRequest(string? Id, string? Invoice, bool RequireAcknowledgement = false);

/// <summary>A financier's request to finance a receivable; it may require the buyer's acknowledgement.</summary>
public sealed record FinancingRequest(bool RequireAcknowledgement = false);

/// <summary>A payment towards a financed receivable, by its payment reference (the idempotency key).</summary>
public sealed record RepaymentRequest(string? Reference, decimal? Amount);

/// <summary>The shape rules of trade requests (docs/trade.md, "Orders and invoices"): each refusal names the member.</summary>
public static partial class TradeFields
{
    public const int MaxLines = 1000;
    public const long MaxQuantity = 1_000_000_000;
    public const decimal MaxUnitPrice = 1_000_000_000_000m;
    public const int MaxPriceDecimals = 4;

    /// <summary>A document number or receivable id: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public static string Name(string? value, string field) =>
        value is not null && NamePattern().IsMatch(value) ? value
        : throw Refused.Invalid(field, $"'{value}' is not a {field}: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");

    public static string Currency(string? value, string field = "currency") =>
        value is { Length: 3 } && value.All(char.IsAsciiLetterUpper) ? value
        : throw Refused.Invalid(field, $"'{value}' is not an ISO 4217 currency code (three capital letters, e.g. EUR).");

    /// <summary>A positive amount with at most <see cref="MaxPriceDecimals"/> decimals.</summary>
    public static decimal Amount(decimal? value, string field) =>
        value is { } amount && amount > 0 && amount <= MaxUnitPrice * MaxQuantity && amount.Scale <= MaxPriceDecimals ? amount
        : throw Refused.Invalid(field, $"'{value?.ToString(CultureInfo.InvariantCulture)}' is not an amount: a positive number with at most {MaxPriceDecimals} decimals.");

    /// <summary>The business transaction URI a document is named by: the one given (an absolute URI of at most 512
    /// characters), else <c>urn:btmc:trade:{kind}:{issuer}:{number}</c>, the document's record id as a URN.</summary>
    public static string BizTransaction(string? value, string recordId)
    {
        if (value is null)
        {
            return "urn:btmc:" + recordId;
        }

        return value.Length <= 512 && Uri.TryCreate(value, UriKind.Absolute, out _) && !value.Any(char.IsWhiteSpace) ? value
            : throw Refused.Invalid("bizTransaction", $"'{value}' is not a business transaction URI: an absolute URI of at most 512 characters.");
    }

    public static IReadOnlyList<TradeLine> Lines(IReadOnlyList<TradeLineRequest>? lines)
    {
        if (lines is not { Count: > 0 and <= MaxLines })
        {
            throw Refused.Invalid("lines", $"A document has 1 to {MaxLines} lines.");
        }

        var result = new List<TradeLine>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i] ?? throw Refused.Invalid($"lines/{i}", "A line is an object with gtin, quantity and unitPrice.");
            var gtin = Gtin(line.Gtin, $"lines/{i}/gtin");
            if (line.Quantity is not (> 0 and <= MaxQuantity))
            {
                throw Refused.Invalid($"lines/{i}/quantity", $"'{line.Quantity}' is not a quantity: a whole number from 1 to {MaxQuantity}.");
            }

            if (line.UnitPrice is not { } price || price < 0 || price > MaxUnitPrice || price.Scale > MaxPriceDecimals)
            {
                throw Refused.Invalid($"lines/{i}/unitPrice", $"'{line.UnitPrice?.ToString(CultureInfo.InvariantCulture)}' is not a unit price: from 0 to {MaxUnitPrice} with at most {MaxPriceDecimals} decimals.");
            }

            if (result.Any(l => l.Gtin == gtin))
            {
                throw Refused.Invalid($"lines/{i}/gtin", $"GTIN {gtin} is on an earlier line: one line per GTIN.");
            }

            result.Add(new TradeLine(gtin, line.Quantity.Value, price));
        }

        return result;
    }

    /// <summary>A GTIN-8, -12, -13 or -14 with a right check digit, as its 14 digits.</summary>
    public static string Gtin(string? value, string field)
    {
        if (value is { Length: 8 or 12 or 13 or 14 } && value.All(char.IsAsciiDigit))
        {
            // GS1 check digit: weights 3 and 1 alternating from the right of the first 13 digits, mod 10.
            var gtin = value.PadLeft(14, '0');
            var sum = 0;
            for (var i = 0; i < 13; i++)
            {
                sum += (gtin[i] - '0') * (i % 2 == 0 ? 3 : 1);
            }

            var expected = (10 - (sum % 10)) % 10;
            return gtin[13] - '0' == expected ? gtin
                : throw Refused.Invalid(field, $"GTIN {value} has check digit {gtin[13]}, expected {expected}.");
        }

        throw Refused.Invalid(field, $"'{value}' is not a GTIN: 8, 12, 13 or 14 digits.");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
