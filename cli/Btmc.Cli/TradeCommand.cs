using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Btmc.Ledger;
using Btmc.Supply.Receipts;
using Btmc.Trade;

namespace Btmc.Cli;

/// <summary>
/// <c>btmc trade</c> and <c>btmc finance</c> (docs/trade.md): record orders, despatch advices and invoices, acknowledge
/// an invoice with the partner's signing key; offer an invoice as a receivable, request to finance it, repay it, fetch
/// its status with every proof, and check such a bundle offline. Each request prints the backend's JSON answer; a
/// refusal prints its problem and exits 1.
/// </summary>
internal static class TradeCommand
{
    public static IEnumerable<Command> Create() =>
    [
        new Command("trade", "Trade documents on the trade chain: orders, despatch advices, invoices, acknowledgements.") { Order(), Despatch(), Invoice(), Acknowledge(), Show(), GetReceipt() },
        new Command("finance", "Receivables finance: offer an invoice, request to finance it, repay it, its status and proofs.") { Offer(), Request(), Status(), Repay(), Verify() },
    ];

    private static Command Order()
    {
        var number = Number("The order number (the buyer's).");
        var buyer = new Option<string>("--buyer") { Required = true, HelpName = "partner", Description = "The buyer's partner id." };
        var seller = new Option<string>("--seller") { Required = true, HelpName = "partner", Description = "The seller's partner id." };
        var currency = new Option<string>("--currency") { Required = true, HelpName = "ISO 4217", Description = "The order's currency, e.g. EUR." };
        var (lines, bizTransaction) = (Lines(), BizTransaction());
        var command = new Command("order", "Record a purchase order (as its buyer or seller).") { number, buyer, seller, currency, lines, bizTransaction };
        return OperatorRequests.Send(command, "trade", _ => "api/trade/orders", HttpMethod.Post, p => new
        {
            number = p.GetRequiredValue(number), buyer = p.GetRequiredValue(buyer), seller = p.GetRequiredValue(seller), currency = p.GetRequiredValue(currency),
            lines = ParseLines(p.GetRequiredValue(lines)), bizTransaction = p.GetValue(bizTransaction),
        });
    }

    private static Command Despatch()
    {
        var (number, order, lines, bizTransaction) = (Number("The despatch advice number (the seller's)."), OrderOption(), Lines(), BizTransaction());
        var command = new Command("despatch", "Record a despatch advice for an order (as its seller).") { number, order, lines, bizTransaction };
        return OperatorRequests.Send(command, "trade", _ => "api/trade/despatch-advices", HttpMethod.Post, p => new
        {
            number = p.GetRequiredValue(number), order = p.GetRequiredValue(order), lines = ParseLines(p.GetRequiredValue(lines)), bizTransaction = p.GetValue(bizTransaction),
        });
    }

    private static Command Invoice()
    {
        var (number, order, lines, bizTransaction) = (Number("The invoice number (the seller's)."), OrderOption(), Lines(), BizTransaction());
        var due = new Option<DateOnly>("--due") { Required = true, HelpName = "yyyy-MM-dd", Description = "The due date." };
        var command = new Command("invoice", "Record an invoice for an order (as its seller).") { number, order, lines, due, bizTransaction };
        return OperatorRequests.Send(command, "trade", _ => "api/trade/invoices", HttpMethod.Post, p => new
        {
            number = p.GetRequiredValue(number), order = p.GetRequiredValue(order), lines = ParseLines(p.GetRequiredValue(lines)),
            dueDate = p.GetRequiredValue(due).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), bizTransaction = p.GetValue(bizTransaction),
        });
    }

    /// <summary>Fetches the invoice as sealed (its receipt's record bytes), checks the receipt, signs those bytes with the
    /// partner's key and sends the acknowledgement: the buyer signs exactly what the ledger holds.</summary>
    private static Command Acknowledge()
    {
        var invoice = new Argument<string>("invoice") { Description = "The invoice's record id, trade:invoice:{seller}:{number}." };
        var signingKey = new Option<FileInfo>("--signing-key")
        {
            Required = true,
            HelpName = "pem",
            Description = "The partner's EC P-256 private key, PEM, whose public key the partner registry holds.",
        }.AcceptExistingOnly();
        var url = CliOptions.Url();
        var command = new Command("acknowledge", "Acknowledge an invoice as its buyer: sign the invoice record as sealed.") { invoice, signingKey, url };
        var apiKey = new ApiKeyOptions(command, "trade acknowledge");
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url));
            http.DefaultRequestHeaders.Add("X-API-Key", apiKey.Of(parseResult));
            var id = parseResult.GetRequiredValue(invoice);
            using var fetched = await http.GetAsync("api/trade/receipts/" + id, cancellationToken);
            if (!fetched.IsSuccessStatusCode)
            {
                return await OperatorRequests.ReportAsync(fetched, output, error, cancellationToken);
            }

            var receipt = Receipt.FromJson(await fetched.Content.ReadAsStringAsync(cancellationToken));
            if (!ReceiptVerifier.Verify(receipt).IsValid || receipt.Record is null || receipt.EventId != id)
            {
                error.WriteLine($"btmc: the backend's receipt of {id} does not verify; nothing was signed.");
                return 1;
            }

            using var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(parseResult.GetRequiredValue(signingKey).FullName));
                _ = key.ExportParameters(includePrivateParameters: true);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                throw new CliUsageException($"--signing-key: not an unencrypted EC P-256 private key in PEM: {ex.Message}");
            }

            var signature = DetachedJws.Sign(key, Convert.FromBase64String(receipt.Record));
            using var response = await http.PostAsJsonAsync("api/trade/acknowledgements", new { invoice = id, signature }, cancellationToken);
            return await OperatorRequests.ReportAsync(response, output, error, cancellationToken);
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "A trade record id, e.g. trade:invoice:{seller}:{number}." };
        var command = new Command("show", "Show a trade record: where it is sealed, an invoice's backing, a receivable's state.") { id };
        return OperatorRequests.Send(command, "trade", p => "api/trade/records/" + p.GetRequiredValue(id), HttpMethod.Get, null);
    }

    private static Command GetReceipt()
    {
        var id = new Argument<string>("id") { Description = "A trade record id, e.g. trade:invoice:{seller}:{number}." };
        var url = CliOptions.Url();
        var file = CliOptions.Out("the receipt");
        var command = new Command("receipt", "Print the receipt of a trade record (btmc-receipt/5), to check offline with verify-receipt.") { id, url, file };
        ApiKeyOptions.AddOptional(command);
        command.SetAction((parseResult, output, _, cancellationToken) =>
        {
            var recordId = parseResult.GetRequiredValue(id);
            return LedgerCommand.FetchAsync(parseResult, parseResult.GetRequiredValue(url), "api/trade/receipts/" + recordId, $"receipt of {recordId}", parseResult.GetValue(file), output, cancellationToken);
        });
        return command;
    }

    private static Command Offer()
    {
        var invoice = new Argument<string>("invoice") { Description = "The invoice's record id, trade:invoice:{seller}:{number}." };
        var id = new Option<string>("--id") { Required = true, HelpName = "receivable", Description = "The receivable's id (yours to choose, unique on the ledger)." };
        var requireAck = CliOptions.Flag("--require-acknowledgement", "Financing needs the buyer's acknowledgement first.");
        var command = new Command("offer", "Offer an invoice for finance (as its seller).") { invoice, id, requireAck };
        return OperatorRequests.Send(command, "finance", _ => "api/finance/receivables", HttpMethod.Post, p => new
        {
            id = p.GetRequiredValue(id), invoice = p.GetRequiredValue(invoice), requireAcknowledgement = p.GetValue(requireAck),
        });
    }

    private static Command Request()
    {
        var id = ReceivableArgument();
        var requireAck = CliOptions.Flag("--require-acknowledgement", "Refuse unless the buyer has acknowledged the invoice.");
        var command = new Command("request", "Request to finance a receivable (as a financier); the first request in ledger order is granted.") { id, requireAck };
        return OperatorRequests.Send(command, "finance", p => $"api/finance/receivables/{p.GetRequiredValue(id)}/financing", HttpMethod.Post,
            p => new { requireAcknowledgement = p.GetValue(requireAck) });
    }

    private static Command Repay()
    {
        var id = ReceivableArgument();
        var amount = new Option<decimal>("--amount") { Required = true, HelpName = "amount", Description = "The amount paid, in the receivable's currency." };
        var reference = new Option<string>("--reference") { Required = true, HelpName = "ref", Description = "The payment's reference: repeating it records nothing twice." };
        var command = new Command("repay", "Record a payment towards a financed receivable (as its buyer or holder); paid in full, it is released.") { id, amount, reference };
        return OperatorRequests.Send(command, "finance", p => $"api/finance/receivables/{p.GetRequiredValue(id)}/repayments", HttpMethod.Post,
            p => new { amount = p.GetRequiredValue(amount), reference = p.GetRequiredValue(reference) });
    }

    private static Command Status()
    {
        var id = ReceivableArgument();
        var url = CliOptions.Url();
        var file = CliOptions.Out("the receivable bundle");
        var command = new Command("status", "A receivable's state with the proofs of its invoice, order, shipments and financing (a btmc-receivable/1 bundle).") { id, url, file };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
            using var response = await http.GetAsync("api/finance/receivables/" + parseResult.GetRequiredValue(id), cancellationToken);
            if (!response.IsSuccessStatusCode || parseResult.GetValue(file) is not { } target)
            {
                return await OperatorRequests.ReportAsync(response, output, error, cancellationToken);
            }

            await File.WriteAllTextAsync(target.FullName, await response.Content.ReadAsStringAsync(cancellationToken), cancellationToken);
            output.WriteLine($"receivable bundle written to {target}");
            return 0;
        });
        return command;
    }

    private static Command Verify() =>
        LedgerCommand.VerifyFile("verify", "Check a receivable bundle offline: every receipt, and that the records agree.", ReceivableBundle.FromJson, (bundle, trusted) =>
        {
            var result = ReceivableVerifier.Verify(bundle, trusted);
            var r = bundle.Receivable;
            return (result.Failure, $"receivable {r.Id} ({r.Status}{(r.Holder is { } holder ? $", held by {holder}" : string.Empty)}): invoice {r.Invoice} of {r.Seller} to {r.Buyer} for {r.Amount} {r.Currency}, " +
                $"{(r.Backed ? "backed by a shipment to the buyer" : "UNBACKED: no shipment to the buyer on the ledger")}{(r.Acknowledged ? ", acknowledged by the buyer" : string.Empty)}; " +
                $"{result.Records} records and {result.Events} events, every receipt verified, signed by key(s) {string.Join(", ", result.KeyThumbprints)}");
        });

    private static Argument<string> ReceivableArgument() => new("id") { Description = "The receivable's id." };

    private static Option<string> Number(string description) => new("--number") { Required = true, HelpName = "number", Description = description };

    private static Option<string> OrderOption() => new("--order") { Required = true, HelpName = "record id", Description = "The order's record id, trade:order:{buyer}:{number}." };

    private static Option<string> BizTransaction() => new("--biz-transaction")
    {
        HelpName = "uri",
        Description = "The business transaction URI EPCIS events name the document by (default urn:btmc:trade:{kind}:{issuer}:{number}).",
    };

    private static Option<string[]> Lines() => new("--line")
    {
        Required = true,
        HelpName = "gtin:quantity:price",
        Description = "A line: GTIN, quantity and unit price (repeat for several).",
        AllowMultipleArgumentsPerToken = false,
    };

    private static List<object> ParseLines(string[] lines) => lines.Select(line =>
    {
        var parts = line.Split(':');
        return parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var quantity)
            && decimal.TryParse(parts[2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price)
            ? (object)new { gtin = parts[0], quantity, unitPrice = price }
            : throw new CliUsageException($"--line {line}: write gtin:quantity:price, e.g. 04012345000009:100:12.50.");
    }).ToList();
}
