using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Query;

/// <summary>
/// A SimpleEventQuery as given to <c>GET /events</c> (EPCIS 2.0 section 8.2.7.1, REST binding): every given parameter
/// must hold for an event to match. List parameters are pipe-delimited (OpenAPI <c>style: pipeDelimited</c>,
/// <c>explode: false</c>): <c>EQ_bizStep=shipping|receiving</c> matches either; a list parameter repeated adds its
/// values to the same list. Values are taken as already percent-decoded. A null list means the parameter was not given.
/// </summary>
public sealed partial record EpcisQuery
{
    /// <summary>Events per page when <c>perPage</c> is not given.</summary>
    public const int DefaultPerPage = 30;

    /// <summary>The repository's upper limit on <c>perPage</c>; a larger value is lowered to this one.</summary>
    public const int MaxPerPage = 1000;

    private static readonly string[] ActionValues = ["ADD", "OBSERVE", "DELETE"];

    /// <summary><c>eventType</c>: the event's <c>type</c> is one of these.</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }

    /// <summary><c>GE_eventTime</c>: <c>eventTime</c> at or after this instant.</summary>
    public DateTimeOffset? GeEventTime { get; init; }

    /// <summary><c>LT_eventTime</c>: <c>eventTime</c> before this instant.</summary>
    public DateTimeOffset? LtEventTime { get; init; }

    /// <summary><c>GE_recordTime</c>: record time at or after this instant.</summary>
    public DateTimeOffset? GeRecordTime { get; init; }

    /// <summary><c>LT_recordTime</c>: record time before this instant.</summary>
    public DateTimeOffset? LtRecordTime { get; init; }

    /// <summary><c>EQ_action</c>: the event has an <c>action</c>, one of these (ADD, OBSERVE, DELETE).</summary>
    public IReadOnlyList<string>? Actions { get; init; }

    /// <summary><c>EQ_bizStep</c>.</summary>
    public CbvFilter? BizSteps { get; init; }

    /// <summary><c>EQ_disposition</c>.</summary>
    public CbvFilter? Dispositions { get; init; }

    /// <summary><c>EQ_readPoint</c>: <c>readPoint.id</c> is one of these URIs (no patterns).</summary>
    public EpcFilter? ReadPoints { get; init; }

    /// <summary><c>EQ_bizLocation</c>: <c>bizLocation.id</c> is one of these URIs (no patterns).</summary>
    public EpcFilter? BizLocations { get; init; }

    /// <summary><c>MATCH_epc</c>: an EPC of <c>epcList</c> or <c>childEPCs</c> matches.</summary>
    public EpcFilter? MatchEpc { get; init; }

    /// <summary><c>MATCH_parentID</c>: <c>parentID</c> matches.</summary>
    public EpcFilter? MatchParentId { get; init; }

    /// <summary><c>MATCH_inputEPC</c>: an EPC of <c>inputEPCList</c> matches.</summary>
    public EpcFilter? MatchInputEpc { get; init; }

    /// <summary><c>MATCH_outputEPC</c>: an EPC of <c>outputEPCList</c> matches.</summary>
    public EpcFilter? MatchOutputEpc { get; init; }

    /// <summary><c>MATCH_anyEPC</c>: <c>parentID</c> or an EPC of <c>epcList</c>, <c>childEPCs</c>, <c>inputEPCList</c> or <c>outputEPCList</c> matches.</summary>
    public EpcFilter? MatchAnyEpc { get; init; }

    /// <summary><c>EQ_eventID</c>: the event's <c>eventID</c> is one of these (exact).</summary>
    public IReadOnlyList<string>? EventIds { get; init; }

    /// <summary><c>EXISTS_errorDeclaration=true</c>: the event carries an <c>errorDeclaration</c>.</summary>
    public bool ExistsErrorDeclaration { get; init; }

    /// <summary>
    /// <c>EQ_bizTransaction_&lt;type&gt;</c>, one per type given: for each, a <c>bizTransactionList</c> entry has that
    /// type and one of the URIs.
    /// </summary>
    public IReadOnlyList<TypedUriFilter>? BizTransactions { get; init; }

    /// <summary><c>EQ_source_&lt;type&gt;</c>, one per type given: for each, a <c>sourceList</c> entry has that type and one of the URIs.</summary>
    public IReadOnlyList<TypedUriFilter>? Sources { get; init; }

    /// <summary><c>EQ_destination_&lt;type&gt;</c>, one per type given: for each, a <c>destinationList</c> entry has that type and one of the URIs.</summary>
    public IReadOnlyList<TypedUriFilter>? Destinations { get; init; }

    /// <summary><c>EQ_errorReason</c>: the event's <c>errorDeclaration.reason</c> is one of these CBV values, in any spelling.</summary>
    public CbvFilter? ErrorReasons { get; init; }

    /// <summary><c>EQ_correctiveEventID</c>: the event's <c>errorDeclaration.correctiveEventIDs</c> names one of these (exact).</summary>
    public IReadOnlyList<string>? CorrectiveEventIds { get; init; }

    /// <summary>
    /// <c>EQ_quantity</c>, <c>GT_quantity</c>, <c>GE_quantity</c>, <c>LT_quantity</c>, <c>LE_quantity</c>: one quantity
    /// element (of <c>quantityList</c>, <c>childQuantityList</c>, <c>inputQuantityList</c> or <c>outputQuantityList</c>)
    /// has a <c>quantity</c> meeting every given bound (so GE and LT together give a range).
    /// </summary>
    public QuantityBounds? Quantity { get; init; }

    /// <summary><c>perPage</c>: at most this many events per response page (1 to <see cref="MaxPerPage"/>).</summary>
    public int PerPage { get; init; } = DefaultPerPage;

    /// <summary><c>nextPageToken</c>: the opaque continuation token, carried as given.</summary>
    public string? NextPageToken { get; init; }

    /// <summary><c>orderBy</c>: the field the result is ordered by; null keeps ledger order.</summary>
    public EpcisOrderField? OrderBy { get; init; }

    /// <summary><c>orderDirection=ASC</c>; the standard's default is DESC. Applies only with <see cref="OrderBy"/>.</summary>
    public bool OrderAscending { get; init; }

    /// <summary><c>eventCountLimit</c>: only the first this many events, after ordering (requires <c>orderBy</c>).</summary>
    public int? EventCountLimit { get; init; }

    /// <summary><c>maxEventCount</c>: when more events than this match, the query fails with QueryTooLargeException.</summary>
    public int? MaxEventCount { get; init; }

    /// <summary>
    /// True when the answer depends on the whole matching set, not only on the events of one page: ordering by a
    /// field, a count limit or a maximum count.
    /// </summary>
    public bool NeedsWholeResult => OrderBy is not null || EventCountLimit is not null || MaxEventCount is not null;

    /// <summary>
    /// Reads the query string parameters of <c>GET /events</c>. Every problem is reported, each with a null event
    /// index and the parameter's name as its pointer (an EPCIS QueryParameterException).
    /// </summary>
    public static EpcisQueryParseResult Parse(IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var problems = new List<EpcisProblem>();
        var given = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (!given.TryGetValue(name, out var values))
            {
                given[name] = values = [];
            }

            values.Add(value ?? string.Empty);
        }

        var query = new EpcisQuery();
        foreach (var (name, values) in given)
        {
            var reader = new ParameterReader(name, values, problems);
            query = name switch
            {
                "eventType" => reader.List() is { } types ? query with { EventTypes = types } : query,
                "GE_eventTime" => query with { GeEventTime = reader.Time() },
                "LT_eventTime" => query with { LtEventTime = reader.Time() },
                "GE_recordTime" => query with { GeRecordTime = reader.Time() },
                "LT_recordTime" => query with { LtRecordTime = reader.Time() },
                "EQ_action" => query with { Actions = reader.Actions() },
                "EQ_bizStep" => reader.List() is { } steps ? query with { BizSteps = CbvFilter.BizSteps(steps) } : query,
                "EQ_disposition" => reader.List() is { } dispositions ? query with { Dispositions = CbvFilter.Dispositions(dispositions) } : query,
                "EQ_readPoint" => query with { ReadPoints = reader.Identifiers(allowPatterns: false) },
                "EQ_bizLocation" => query with { BizLocations = reader.Identifiers(allowPatterns: false) },
                "MATCH_epc" => query with { MatchEpc = reader.Identifiers(allowPatterns: true) },
                "MATCH_parentID" => query with { MatchParentId = reader.Identifiers(allowPatterns: true) },
                "MATCH_inputEPC" => query with { MatchInputEpc = reader.Identifiers(allowPatterns: true) },
                "MATCH_outputEPC" => query with { MatchOutputEpc = reader.Identifiers(allowPatterns: true) },
                "MATCH_anyEPC" => query with { MatchAnyEpc = reader.Identifiers(allowPatterns: true) },
                "EQ_eventID" => query with { EventIds = reader.List() },
                "EXISTS_errorDeclaration" => query with { ExistsErrorDeclaration = reader.Boolean() },
                "perPage" => query with { PerPage = reader.PerPage() },
                "EQ_errorReason" => reader.List() is { } reasons ? query with { ErrorReasons = CbvFilter.ErrorReasons(reasons) } : query,
                "EQ_correctiveEventID" => query with { CorrectiveEventIds = reader.List() },
                "EQ_quantity" => query with { Quantity = (query.Quantity ?? new QuantityBounds()) with { Eq = reader.Number() } },
                "GT_quantity" => query with { Quantity = (query.Quantity ?? new QuantityBounds()) with { Gt = reader.Number() } },
                "GE_quantity" => query with { Quantity = (query.Quantity ?? new QuantityBounds()) with { Ge = reader.Number() } },
                "LT_quantity" => query with { Quantity = (query.Quantity ?? new QuantityBounds()) with { Lt = reader.Number() } },
                "LE_quantity" => query with { Quantity = (query.Quantity ?? new QuantityBounds()) with { Le = reader.Number() } },
                "nextPageToken" => query with { NextPageToken = reader.Single() },
                "orderBy" => query with { OrderBy = reader.OrderBy() },
                "orderDirection" => query with { OrderAscending = reader.OrderAscending() },
                "eventCountLimit" => query with { EventCountLimit = reader.Count() },
                "maxEventCount" => query with { MaxEventCount = reader.Count() },
                _ when TypedUriFilter.FamilyOf(name) is { } family => reader.Typed(family, query),
                _ => ParseMore(name, reader, query),
            };
        }

        if (query is { GeEventTime: { } geEvent, LtEventTime: { } ltEvent } && geEvent >= ltEvent)
        {
            problems.Add(new EpcisProblem(null, "LT_eventTime", "LT_eventTime must be later than GE_eventTime."));
        }

        if (query is { GeRecordTime: { } geRecord, LtRecordTime: { } ltRecord } && geRecord >= ltRecord)
        {
            problems.Add(new EpcisProblem(null, "LT_recordTime", "LT_recordTime must be later than GE_recordTime."));
        }

        // Both rules are the standard's (SimpleEventQuery, eventCountLimit and maxEventCount).
        if (given.ContainsKey("eventCountLimit") && given.ContainsKey("maxEventCount"))
        {
            problems.Add(new EpcisProblem(null, "eventCountLimit", "eventCountLimit and maxEventCount are mutually exclusive; give one of them."));
        }
        else if (given.ContainsKey("eventCountLimit") && !given.ContainsKey("orderBy"))
        {
            problems.Add(new EpcisProblem(null, "eventCountLimit", "eventCountLimit needs orderBy: the first N events are only defined by an order."));
        }

        return problems.Count > 0 ? new EpcisQueryParseResult(null, problems) : new EpcisQueryParseResult(query, []);
    }

    /// <summary>
    /// True when the event (a JSON-LD EPCIS event object) satisfies every given parameter. Record time comes from the
    /// event's own <c>recordTime</c> member; an event without one fails <c>GE_recordTime</c>/<c>LT_recordTime</c>.
    /// </summary>
    public bool Matches(JsonElement evt) => Matches(evt, null);

    /// <summary>True when the event, recorded at <paramref name="recordTime"/> (the repository's record time), satisfies every given parameter.</summary>
    public bool Matches(JsonElement evt, DateTimeOffset recordTime) => Matches(evt, (DateTimeOffset?)recordTime);

    private bool Matches(JsonElement evt, DateTimeOffset? recordTime)
    {
        if (evt.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        Span<char> buffer = stackalloc char[JsonText.BufferLength];
        if (EventTypes is { } types && !(JsonText.TryGetMember(evt, "type"u8, buffer, out var type) && IsOneOf(type, types)))
        {
            return false;
        }

        if ((GeEventTime is not null || LtEventTime is not null) && !(TryGetTime(evt, "eventTime"u8, out var eventTime) && InRange(eventTime, GeEventTime, LtEventTime)))
        {
            return false;
        }

        if (GeRecordTime is not null || LtRecordTime is not null)
        {
            if ((recordTime is not { } recorded && !TryGetTime(evt, "recordTime"u8, out recorded)) || !InRange(recorded, GeRecordTime, LtRecordTime))
            {
                return false;
            }
        }

        if (Actions is { } actions && !(JsonText.TryGetMember(evt, "action"u8, buffer, out var action) && IsOneOf(action, actions)))
        {
            return false;
        }

        if (BizSteps is { } steps && !(JsonText.TryGetMember(evt, "bizStep"u8, buffer, out var step) && steps.Matches(step)))
        {
            return false;
        }

        if (Dispositions is { } dispositions && !(JsonText.TryGetMember(evt, "disposition"u8, buffer, out var disposition) && dispositions.Matches(disposition)))
        {
            return false;
        }

        if (ReadPoints is { } readPoints && !(evt.TryGetProperty("readPoint"u8, out var readPoint) && JsonText.TryGetMember(readPoint, "id"u8, buffer, out var rp) && readPoints.Matches(rp)))
        {
            return false;
        }

        if (BizLocations is { } bizLocations && !(evt.TryGetProperty("bizLocation"u8, out var bizLocation) && JsonText.TryGetMember(bizLocation, "id"u8, buffer, out var bl) && bizLocations.Matches(bl)))
        {
            return false;
        }

        if (MatchEpc is { } epc && !(AnyIn(evt, "epcList"u8, epc, buffer) || AnyIn(evt, "childEPCs"u8, epc, buffer)))
        {
            return false;
        }

        if (MatchParentId is { } parent && !(JsonText.TryGetMember(evt, "parentID"u8, buffer, out var parentId) && parent.Matches(parentId)))
        {
            return false;
        }

        if (MatchInputEpc is { } input && !AnyIn(evt, "inputEPCList"u8, input, buffer))
        {
            return false;
        }

        if (MatchOutputEpc is { } output && !AnyIn(evt, "outputEPCList"u8, output, buffer))
        {
            return false;
        }

        if (MatchAnyEpc is { } any
            && !(AnyIn(evt, "epcList"u8, any, buffer) || AnyIn(evt, "childEPCs"u8, any, buffer) || AnyIn(evt, "inputEPCList"u8, any, buffer)
                || AnyIn(evt, "outputEPCList"u8, any, buffer) || (JsonText.TryGetMember(evt, "parentID"u8, buffer, out var anyParent) && any.Matches(anyParent))))
        {
            return false;
        }

        if (EventIds is { } ids && !(JsonText.TryGetMember(evt, "eventID"u8, buffer, out var id) && IsOneOf(id, ids)))
        {
            return false;
        }

        if (!AllMatch(evt, BizTransactions, "bizTransactionList", "bizTransaction") || !AllMatch(evt, Sources, "sourceList", "source")
            || !AllMatch(evt, Destinations, "destinationList", "destination"))
        {
            return false;
        }

        if (Quantity is { } bounds && !AnyQuantity(evt, bounds))
        {
            return false;
        }

        if (ErrorReasons is not null || CorrectiveEventIds is not null)
        {
            if (!evt.TryGetProperty("errorDeclaration"u8, out var declared) || declared.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (ErrorReasons is { } reasons && !(JsonText.TryGetMember(declared, "reason"u8, buffer, out var reason) && reasons.Matches(reason)))
            {
                return false;
            }

            if (CorrectiveEventIds is { } corrective && !(declared.TryGetProperty("correctiveEventIDs"u8, out var named) && named.ValueKind == JsonValueKind.Array
                && named.EnumerateArray().Any(n => n.ValueKind == JsonValueKind.String && corrective.Contains(n.GetString()!, StringComparer.Ordinal))))
            {
                return false;
            }
        }

        return (!ExistsErrorDeclaration || (evt.TryGetProperty("errorDeclaration"u8, out var declaration) && declaration.ValueKind == JsonValueKind.Object))
            && MatchesMore(evt, buffer);
    }

    private static bool AnyQuantity(JsonElement evt, QuantityBounds bounds)
    {
        foreach (var list in (string[])["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"])
        {
            if (!evt.TryGetProperty(list, out var elements) || elements.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var element in elements.EnumerateArray())
            {
                if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("quantity"u8, out var quantity)
                    && quantity.ValueKind == JsonValueKind.Number && quantity.TryGetDouble(out var value) && bounds.Holds(value))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>True when every typed filter finds an entry of <paramref name="list"/> with its type and one of its URIs.</summary>
    private static bool AllMatch(JsonElement evt, IReadOnlyList<TypedUriFilter>? filters, string list, string member)
    {
        if (filters is null)
        {
            return true;
        }

        if (!evt.TryGetProperty(list, out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var filter in filters)
        {
            var found = false;
            foreach (var entry in entries.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && filter.HasType(type.GetString()!)
                    && entry.TryGetProperty(member, out var id) && id.ValueKind == JsonValueKind.String && filter.Uris.Matches(id.GetString()!))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsOneOf(ReadOnlySpan<char> value, IReadOnlyList<string> values)
    {
        // Indexed, not foreach: enumerating an interface would allocate an enumerator per event.
        for (var i = 0; i < values.Count; i++)
        {
            if (value.SequenceEqual(values[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool InRange(DateTimeOffset time, DateTimeOffset? from, DateTimeOffset? before) =>
        (from is not { } ge || time >= ge) && (before is not { } lt || time < lt);

    private static bool TryGetTime(JsonElement evt, ReadOnlySpan<byte> name, out DateTimeOffset time)
    {
        time = default;
        return evt.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out time);
    }

    private static bool AnyIn(JsonElement evt, ReadOnlySpan<byte> list, EpcFilter filter, Span<char> buffer)
    {
        if (!evt.TryGetProperty(list, out var epcs) || epcs.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in epcs.EnumerateArray())
        {
            if (JsonText.TryGetText(item, buffer, out var epc) && filter.Matches(epc))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    /// <summary>Reads the values of one parameter, reporting problems under its name.</summary>
    private readonly struct ParameterReader(string name, List<string> values, List<EpcisProblem> problems)
    {
        public T Refuse<T>(string detail, T result)
        {
            problems.Add(new EpcisProblem(null, name, detail));
            return result;
        }

        public string? Single()
        {
            if (values.Count > 1)
            {
                problems.Add(new EpcisProblem(null, name, $"{name} is given {values.Count} times; give it once."));
                return null;
            }

            return values[0];
        }

        /// <summary>The pipe-delimited elements of every occurrence, or null (with a problem) when one is empty.</summary>
        public IReadOnlyList<string>? List()
        {
            var list = new List<string>();
            foreach (var value in values)
            {
                foreach (var element in value.Split('|'))
                {
                    if (element.Length == 0)
                    {
                        problems.Add(new EpcisProblem(null, name, $"{name} has an empty value; give one or more values separated by '|'."));
                        return null;
                    }

                    list.Add(element);
                }
            }

            return list.Distinct(StringComparer.Ordinal).ToArray();
        }

        public DateTimeOffset? Time()
        {
            if (Single() is not { } value)
            {
                return null;
            }

            // A '+' offset sent unescaped in a URL arrives as a space after form decoding.
            if (value.Length > 6 && value[^6] == ' ')
            {
                value = string.Concat(value.AsSpan(0, value.Length - 6), "+", value.AsSpan(value.Length - 5));
            }

            if (DateTimePattern().IsMatch(value) && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time))
            {
                return time;
            }

            problems.Add(new EpcisProblem(null, name, $"'{value}' is not an RFC 3339 date-time with a time zone (e.g. 2026-11-22T10:15:00.000Z)."));
            return null;
        }

        public IReadOnlyList<string>? Actions()
        {
            if (List() is not { } list)
            {
                return null;
            }

            foreach (var action in list)
            {
                if (!ActionValues.Contains(action, StringComparer.Ordinal))
                {
                    problems.Add(new EpcisProblem(null, name, $"'{action}' is not an action: expected ADD, OBSERVE or DELETE."));
                    return null;
                }
            }

            return list;
        }

        public EpcFilter? Identifiers(bool allowPatterns)
        {
            if (List() is not { } list)
            {
                return null;
            }

            if (EpcFilter.TryCreate(list, allowPatterns, out var filter, out var problem))
            {
                return filter;
            }

            problems.Add(new EpcisProblem(null, name, problem ?? "Invalid value."));
            return null;
        }

        /// <summary>Adds an <c>EQ_bizTransaction_</c>, <c>EQ_source_</c> or <c>EQ_destination_</c> parameter's filter to its family.</summary>
        public EpcisQuery Typed(TypedUriFamily family, EpcisQuery query)
        {
            if (Identifiers(allowPatterns: false) is not { } uris)
            {
                return query;
            }

            var filter = TypedUriFilter.Of(family, name, uris);
            return family switch
            {
                TypedUriFamily.BizTransaction => query with { BizTransactions = [.. query.BizTransactions ?? [], filter] },
                TypedUriFamily.Source => query with { Sources = [.. query.Sources ?? [], filter] },
                _ => query with { Destinations = [.. query.Destinations ?? [], filter] },
            };
        }

        /// <summary>A finite decimal number (the standard's Double).</summary>
        public double? Number()
        {
            if (Single() is not { } value)
            {
                return null;
            }

            if (double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number))
            {
                return number;
            }

            problems.Add(new EpcisProblem(null, name, $"'{value}' is not a number."));
            return null;
        }

        public bool Boolean()
        {
            switch (Single())
            {
                case null:
                    return false;
                case "" or "true":
                    return true;
                case "false":
                    return false;
                case var other:
                    problems.Add(new EpcisProblem(null, name, $"'{other}' is not a boolean: expected true or false."));
                    return false;
            }
        }

        public EpcisOrderField? OrderBy()
        {
            switch (Single())
            {
                case null:
                    return null;
                case "eventTime":
                    return EpcisOrderField.EventTime;
                case "recordTime":
                    return EpcisOrderField.RecordTime;
                case var other:
                    // Extension fields may also be ordered by in the standard; this repository orders by the two times only.
                    problems.Add(new EpcisProblem(null, name, $"'{other}' is not a field this repository orders by: expected eventTime or recordTime."));
                    return null;
            }
        }

        public bool OrderAscending()
        {
            switch (Single())
            {
                case null or "DESC":
                    return false;
                case "ASC":
                    return true;
                case var other:
                    problems.Add(new EpcisProblem(null, name, $"'{other}' is not an order direction: expected ASC or DESC."));
                    return false;
            }
        }

        /// <summary>A non-negative whole number of events (the standard's Int; 0 is allowed and means none).</summary>
        public int? Count()
        {
            if (Single() is not { } value)
            {
                return null;
            }

            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return count;
            }

            // Digits beyond int range are still a count: no result can be that large.
            if (value.Length > 0 && value.All(char.IsAsciiDigit))
            {
                return int.MaxValue;
            }

            problems.Add(new EpcisProblem(null, name, $"'{value}' is not a whole number of events."));
            return null;
        }

        public int PerPage()
        {
            if (Single() is not { } value)
            {
                return DefaultPerPage;
            }

            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var perPage) && perPage > 0)
            {
                return Math.Min(perPage, MaxPerPage);
            }

            // Digits beyond int range are still a positive count: the limit applies.
            if (value.Length > 0 && value.All(char.IsAsciiDigit) && value.TrimStart('0').Length > 0)
            {
                return MaxPerPage;
            }

            problems.Add(new EpcisProblem(null, name, $"'{value}' is not a positive whole number of events per page."));
            return DefaultPerPage;
        }
    }
}

/// <summary>The parameter families whose name ends in a type: <c>EQ_bizTransaction_&lt;type&gt;</c>, <c>EQ_source_&lt;type&gt;</c>, <c>EQ_destination_&lt;type&gt;</c>.</summary>
public enum TypedUriFamily
{
    BizTransaction,
    Source,
    Destination,
}

/// <summary>
/// One <c>EQ_bizTransaction_&lt;type&gt;</c>, <c>EQ_source_&lt;type&gt;</c> or <c>EQ_destination_&lt;type&gt;</c>
/// parameter: the type from its name as a CBV bare word (<c>po</c>, <c>owning_party</c>; the URI and URN spellings of a
/// CBV type are read as their word, as <see cref="EventTerms.CbvWord"/> reads the event's), and its URIs, which match
/// in any spelling of the same identifier (<see cref="EpcFilter"/>).
/// </summary>
public sealed record TypedUriFilter(TypedUriFamily Family, string Type, EpcFilter Uris)
{
    private static readonly (string Prefix, TypedUriFamily Family)[] Prefixes =
        [("EQ_bizTransaction_", TypedUriFamily.BizTransaction), ("EQ_source_", TypedUriFamily.Source), ("EQ_destination_", TypedUriFamily.Destination)];

    /// <summary>The family a parameter name belongs to, or null (a family's prefix with no type is no parameter).</summary>
    public static TypedUriFamily? FamilyOf(string name)
    {
        foreach (var (prefix, family) in Prefixes)
        {
            if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return family;
            }
        }

        return null;
    }

    internal static TypedUriFilter Of(TypedUriFamily family, string name, EpcFilter uris)
    {
        var type = name[Prefixes.First(p => p.Family == family).Prefix.Length..];
        return new TypedUriFilter(family, Word(family, type), uris);
    }

    /// <summary>True when an entry's <c>type</c>, as written in the event, is this filter's type in any CBV spelling.</summary>
    public bool HasType(string type) => Word(Family, type) == Type;

    private static string Word(TypedUriFamily family, string type) => family == TypedUriFamily.BizTransaction
        ? EventTerms.CbvWord(type, "BTT", "btt")
        : EventTerms.CbvWord(type, "SDT", "sdt");
}

/// <summary>The quantity bounds of a query; null bounds were not given.</summary>
public sealed record QuantityBounds(double? Eq = null, double? Gt = null, double? Ge = null, double? Lt = null, double? Le = null)
{
    /// <summary>True when <paramref name="quantity"/> meets every given bound.</summary>
    public bool Holds(double quantity) =>
        (Eq is not { } eq || quantity == eq) && (Gt is not { } gt || quantity > gt) && (Ge is not { } ge || quantity >= ge)
        && (Lt is not { } lt || quantity < lt) && (Le is not { } le || quantity <= le);
}

/// <summary>The fields <c>orderBy</c> may name.</summary>
public enum EpcisOrderField
{
    EventTime,
    RecordTime,
}

/// <summary>The outcome of <see cref="EpcisQuery.Parse"/>: the query, or every problem found (never both).</summary>
public sealed record EpcisQueryParseResult(EpcisQuery? Query, IReadOnlyList<EpcisProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
}
