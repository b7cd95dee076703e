using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Epcis.Cbv;
using Btmc.Epcis.Identifiers;
using Btmc.Epcis.Schema;

namespace Btmc.Epcis;

/// <summary>
/// Reads a capture body: an EPCIS 2.0 <c>EPCISDocument</c> (events in <c>epcisBody.eventList</c>) or one bare event,
/// and checks each event's structure per event type (docs/epcis-capture.md). All problems are reported together;
/// a document with any problem yields no events, so nothing of it is accepted.
/// </summary>
public static partial class EpcisDocumentReader
{
    public static readonly IReadOnlySet<string> EventTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent",
    };

    /// <summary>The most problems reported for one document.</summary>
    public const int MaxProblems = 100;

    private static readonly string[] Actions = ["ADD", "OBSERVE", "DELETE"];
    private static readonly string[] EpcListMembers = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
    private static readonly string[] QuantityListMembers = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
        // A member given twice counts with its last value, as in JSON-LD processors and JavaScript (a GS1 example does this).
        AllowDuplicateProperties = true,
        MaxDepth = 64,
    };

    /// <summary>
    /// Reads and validates a capture body given as UTF-8 JSON. Each event comes back in its stored form (see
    /// <see cref="StoredEvent"/>), with <paramref name="recordTime"/> as its recordTime.
    /// </summary>
    public static CaptureReadResult Read(ReadOnlyMemory<byte> utf8Json, DateTimeOffset recordTime)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, ParseOptions);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : string.Empty;
            return Fail(new EpcisProblem(null, string.Empty, $"The body is not valid JSON{where}: {FirstSentence(ex.Message)}"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Fail(new EpcisProblem(null, string.Empty, "The body must be a JSON object: an EPCISDocument or a single EPCIS event."));
            }

            if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return Fail(new EpcisProblem(null, "/type", "Missing 'type': expected \"EPCISDocument\" or an event type (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent)."));
            }

            var typeName = type.GetString() ?? string.Empty;
            if (typeName == "EPCISDocument")
            {
                return ReadDocument(root, recordTime);
            }

            if (EventTypes.Contains(typeName))
            {
                var problems = new List<EpcisProblem>();
                ValidateEvent(root, null, string.Empty, problems);
                CheckSchemaAndIdentifiers(root, problems);
                return problems.Count > 0
                    ? new CaptureReadResult([], problems)
                    : new CaptureReadResult([CreateEvent(0, string.Empty, root, null, JsonLdContext.Standard, recordTime)], []);
            }

            var detail = typeName == "EPCISQueryDocument"
                ? "An EPCISQueryDocument is a query result, not a capture document: capture an EPCISDocument or a single event."
                : $"Unknown type \"{typeName}\": expected \"EPCISDocument\" or an event type (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent).";
            return Fail(new EpcisProblem(null, "/type", detail));
        }
    }

    private static CaptureReadResult ReadDocument(JsonElement root, DateTimeOffset recordTime)
    {
        var problems = new List<EpcisProblem>();
        if (!root.TryGetProperty("@context", out var documentContext))
        {
            problems.Add(new EpcisProblem(null, "/@context", "Missing '@context': an EPCISDocument must carry the EPCIS 2.0 JSON-LD context."));
        }

        RequireString(root, "schemaVersion", null, string.Empty, problems);
        if (RequireString(root, "creationDate", null, string.Empty, problems) is string created && !IsDateTime(created))
        {
            problems.Add(new EpcisProblem(null, "/creationDate", $"'{created}' is not an RFC 3339 date-time with a time zone."));
        }

        if (!root.TryGetProperty("epcisBody", out var body) || body.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new EpcisProblem(null, "/epcisBody", "Missing 'epcisBody' object."));
            return new CaptureReadResult([], problems);
        }

        if (!body.TryGetProperty("eventList", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new EpcisProblem(null, "/epcisBody/eventList", "Missing 'eventList' array."));
            return new CaptureReadResult([], problems);
        }

        var masterData = MasterDataReader.Read(root, problems);
        var count = list.GetArrayLength();
        // A document may carry only master data (EPCIS 2.0 allows an empty event list): then there is something to capture.
        if (count == 0 && masterData.Count == 0)
        {
            problems.Add(new EpcisProblem(null, "/epcisBody/eventList", "The event list is empty: nothing to capture."));
        }

        var index = 0;
        foreach (var evt in list.EnumerateArray())
        {
            ValidateEvent(evt, index, $"/epcisBody/eventList/{index}", problems);
            index++;
        }

        CheckSchemaAndIdentifiers(root, problems);
        if (problems.Count > 0)
        {
            return new CaptureReadResult([], problems);
        }

        var events = new CapturedEvent[count];
        var context = JsonLdContext.Standard.With(documentContext);
        index = 0;
        foreach (var evt in list.EnumerateArray())
        {
            events[index] = CreateEvent(index, $"/epcisBody/eventList/{index}", evt, documentContext, context, recordTime);
            index++;
        }

        return new CaptureReadResult(events, []) { MasterData = masterData };
    }

    /// <summary>
    /// The event as stored, with its identity. The hash ID is computed from the event as submitted under the
    /// document's context (built once per document), which is what the stored event's own context amounts to
    /// (<c>EpcisDocumentReaderTests</c> checks both agree for every GS1 example).
    /// </summary>
    private static CapturedEvent CreateEvent(int index, string pointer, JsonElement evt, JsonElement? documentContext, JsonLdContext context, DateTimeOffset recordTime)
    {
        var json = StoredEvent.Write(evt, documentContext, recordTime);
        using var stored = JsonDocument.Parse(json, ParseOptions);
        var hashId = EventHashId.Compute(evt, context);
        var terms = EventTerms.Of(evt);
        var id = terms.IsErrorDeclaration ? StoredEvent.ErrorDeclarationId(hashId) : hashId;
        return new CapturedEvent(index, pointer, terms.EventType, id, hashId, EventCanonicalForm.ComputeHash(stored.RootElement), json, terms);
    }

    /// <summary>
    /// The GS1 EPCIS 2.0 JSON Schema, then the identifier checks of every event. An event the structural checks
    /// already faulted gets no further problems (they would mostly restate the same fault), nor does a pointer
    /// already reported.
    /// </summary>
    private static void CheckSchemaAndIdentifiers(JsonElement root, List<EpcisProblem> problems)
    {
        var reported = problems.Select(p => p.Pointer).ToHashSet(StringComparer.Ordinal);
        var faultedEvents = problems.Where(p => p.EventIndex is not null).Select(p => p.EventIndex).ToHashSet();
        var bareEventFaulted = problems.Count > 0 && !root.TryGetProperty("epcisBody", out _);
        var found = new List<EpcisProblem>(EpcisSchema.Validate(root));
        if (root.TryGetProperty("epcisBody", out var body) && body.ValueKind == JsonValueKind.Object
            && body.TryGetProperty("eventList", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var evt in list.EnumerateArray())
            {
                if (evt.ValueKind == JsonValueKind.Object)
                {
                    EpcUriChecks.CheckEvent(evt, index, $"/epcisBody/eventList/{index}", found);
                }

                index++;
            }
        }
        else if (!root.TryGetProperty("epcisBody", out _))
        {
            EpcUriChecks.CheckEvent(root, null, string.Empty, found);
        }

        foreach (var problem in found)
        {
            if (bareEventFaulted || (problem.EventIndex is not null && faultedEvents.Contains(problem.EventIndex)))
            {
                continue;
            }

            if (reported.Add(problem.Pointer) && problems.Count < MaxProblems)
            {
                problems.Add(problem);
            }
        }
    }

    private static void ValidateEvent(JsonElement evt, int? index, string at, List<EpcisProblem> problems)
    {
        if (evt.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new EpcisProblem(index, at, "An event must be a JSON object."));
            return;
        }

        var type = RequireString(evt, "type", index, at, problems);
        if (type is null)
        {
            return;
        }

        if (!EventTypes.Contains(type))
        {
            problems.Add(new EpcisProblem(index, at + "/type", $"Unknown event type \"{type}\"."));
            return;
        }

        if (RequireString(evt, "eventTime", index, at, problems) is string eventTime && !IsDateTime(eventTime))
        {
            problems.Add(new EpcisProblem(index, at + "/eventTime", $"'{eventTime}' is not an RFC 3339 date-time with a time zone (e.g. 2026-11-22T10:15:00.000Z)."));
        }

        if (RequireString(evt, "eventTimeZoneOffset", index, at, problems) is string offset && !TimeZoneOffsetPattern().IsMatch(offset))
        {
            problems.Add(new EpcisProblem(index, at + "/eventTimeZoneOffset", $"'{offset}' is not a time zone offset of the form +hh:mm or -hh:mm (-14:00 to +14:00)."));
        }

        if (OptionalString(evt, "recordTime", index, at, problems) is string recordTime && !IsDateTime(recordTime))
        {
            problems.Add(new EpcisProblem(index, at + "/recordTime", $"'{recordTime}' is not an RFC 3339 date-time with a time zone."));
        }

        if (OptionalString(evt, "eventID", index, at, problems) is string eventId && !IsAbsoluteUri(eventId))
        {
            problems.Add(new EpcisProblem(index, at + "/eventID", $"'{eventId}' is not an absolute URI (e.g. urn:uuid:... or ni:///sha-256;...)."));
        }

        var action = type == "TransformationEvent" ? null : RequireString(evt, "action", index, at, problems);
        if (action is not null && Array.IndexOf(Actions, action) < 0)
        {
            problems.Add(new EpcisProblem(index, at + "/action", $"'{action}' is not an action: expected ADD, OBSERVE or DELETE."));
        }

        if (type == "TransformationEvent" && evt.TryGetProperty("action", out _))
        {
            problems.Add(new EpcisProblem(index, at + "/action", "A TransformationEvent has no action."));
        }

        switch (type)
        {
            case "AggregationEvent" when action is "ADD" or "DELETE":
                RequireString(evt, "parentID", index, at, problems);
                break;
            case "AssociationEvent":
                RequireString(evt, "parentID", index, at, problems);
                break;
            case "TransactionEvent":
                ValidateBizTransactions(evt, index, at, problems, required: true);
                break;
        }

        if (type != "TransactionEvent")
        {
            ValidateBizTransactions(evt, index, at, problems, required: false);
        }

        OptionalString(evt, "parentID", index, at, problems);
        OptionalString(evt, "bizStep", index, at, problems);
        OptionalString(evt, "disposition", index, at, problems);
        ValidateLocation(evt, "readPoint", index, at, problems);
        ValidateLocation(evt, "bizLocation", index, at, problems);
        foreach (var name in EpcListMembers)
        {
            ValidateUriList(evt, name, index, at, problems);
        }

        foreach (var name in QuantityListMembers)
        {
            ValidateQuantityList(evt, name, index, at, problems);
        }
    }

    private static void ValidateBizTransactions(JsonElement evt, int? index, string at, List<EpcisProblem> problems, bool required)
    {
        if (!evt.TryGetProperty("bizTransactionList", out var list))
        {
            if (required)
            {
                problems.Add(new EpcisProblem(index, at + "/bizTransactionList", "A TransactionEvent needs a non-empty 'bizTransactionList'."));
            }

            return;
        }

        if (list.ValueKind != JsonValueKind.Array || (required && list.GetArrayLength() == 0))
        {
            problems.Add(new EpcisProblem(index, at + "/bizTransactionList", required ? "A TransactionEvent needs a non-empty 'bizTransactionList' array." : "'bizTransactionList' must be an array."));
            return;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var itemAt = $"{at}/bizTransactionList/{i}";
            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new EpcisProblem(index, itemAt, "A business transaction must be an object with a 'bizTransaction' URI."));
            }
            else
            {
                RequireString(item, "bizTransaction", index, itemAt, problems);
            }

            i++;
        }
    }

    private static void ValidateLocation(JsonElement evt, string name, int? index, string at, List<EpcisProblem> problems)
    {
        if (!evt.TryGetProperty(name, out var location))
        {
            return;
        }

        if (location.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new EpcisProblem(index, $"{at}/{name}", $"'{name}' must be an object with an 'id'."));
            return;
        }

        RequireString(location, "id", index, $"{at}/{name}", problems);
    }

    private static void ValidateUriList(JsonElement evt, string name, int? index, string at, List<EpcisProblem> problems)
    {
        if (!evt.TryGetProperty(name, out var list))
        {
            return;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new EpcisProblem(index, $"{at}/{name}", $"'{name}' must be an array of identifiers."));
            return;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                problems.Add(new EpcisProblem(index, $"{at}/{name}/{i}", "An identifier must be a non-empty string."));
            }

            i++;
        }
    }

    private static void ValidateQuantityList(JsonElement evt, string name, int? index, string at, List<EpcisProblem> problems)
    {
        if (!evt.TryGetProperty(name, out var list))
        {
            return;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new EpcisProblem(index, $"{at}/{name}", $"'{name}' must be an array of quantity elements."));
            return;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var itemAt = $"{at}/{name}/{i}";
            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new EpcisProblem(index, itemAt, "A quantity element must be an object with an 'epcClass'."));
            }
            else
            {
                RequireString(item, "epcClass", index, itemAt, problems);
                if (item.TryGetProperty("quantity", out var quantity) && quantity.ValueKind != JsonValueKind.Number)
                {
                    problems.Add(new EpcisProblem(index, itemAt + "/quantity", "'quantity' must be a number."));
                }
            }

            i++;
        }
    }

    private static string? RequireString(JsonElement obj, string name, int? index, string at, List<EpcisProblem> problems)
    {
        if (!obj.TryGetProperty(name, out var value))
        {
            problems.Add(new EpcisProblem(index, $"{at}/{name}", $"Missing required '{name}'."));
            return null;
        }

        return StringOrProblem(value, name, index, at, problems);
    }

    private static string? OptionalString(JsonElement obj, string name, int? index, string at, List<EpcisProblem> problems) =>
        obj.TryGetProperty(name, out var value) ? StringOrProblem(value, name, index, at, problems) : null;

    private static string? StringOrProblem(JsonElement value, string name, int? index, string at, List<EpcisProblem> problems)
    {
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            problems.Add(new EpcisProblem(index, $"{at}/{name}", $"'{name}' must be a non-empty string."));
            return null;
        }

        return value.GetString();
    }

    private static bool IsDateTime(string value) =>
        DateTimePattern().IsMatch(value)
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _);

    private static bool IsAbsoluteUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme.Length > 0;

    private static CaptureReadResult Fail(EpcisProblem problem) => new([], [problem]);

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    [GeneratedRegex(@"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeZoneOffsetPattern();
}
