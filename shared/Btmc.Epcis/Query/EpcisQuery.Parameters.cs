using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Btmc.Epcis.Query;

/// <summary>
/// The SimpleEventQuery parameters beyond the "what, when, where, why" core: persistent dispositions, transformation
/// IDs, EPC classes, error declaration time, sensor data (with units), extension fields (<c>EQ_</c>, <c>EQ_INNER_</c>,
/// <c>GT_</c>… <c>EXISTS_</c>, in the event, its ILMD, its error declaration, its sensor elements and its read point or
/// business location) and master data (<c>WD_</c>, <c>EQ_ATTR_</c>, <c>HASATTR_</c>), docs/epcis-query.md.
/// </summary>
public sealed partial record EpcisQuery
{
    /// <summary><c>EQ_persistentDisposition_set</c>: the event's <c>persistentDisposition.set</c> names one of these dispositions.</summary>
    public CbvFilter? PersistentDispositionSet { get; init; }

    /// <summary><c>EQ_persistentDisposition_unset</c>: the event's <c>persistentDisposition.unset</c> names one of these dispositions.</summary>
    public CbvFilter? PersistentDispositionUnset { get; init; }

    /// <summary><c>EQ_transformationID</c>: the event's <c>transformationID</c> is one of these URIs.</summary>
    public EpcFilter? TransformationIds { get; init; }

    /// <summary><c>MATCH_epcClass</c>: an <c>epcClass</c> of <c>quantityList</c> or <c>childQuantityList</c> matches.</summary>
    public EpcClassFilter? MatchEpcClass { get; init; }

    /// <summary><c>MATCH_inputEPCClass</c>: an <c>epcClass</c> of <c>inputQuantityList</c> matches.</summary>
    public EpcClassFilter? MatchInputEpcClass { get; init; }

    /// <summary><c>MATCH_outputEPCClass</c>: an <c>epcClass</c> of <c>outputQuantityList</c> matches.</summary>
    public EpcClassFilter? MatchOutputEpcClass { get; init; }

    /// <summary><c>MATCH_anyEPCClass</c>: an <c>epcClass</c> of any quantity list matches.</summary>
    public EpcClassFilter? MatchAnyEpcClass { get; init; }

    /// <summary><c>GE_errorDeclarationTime</c>: <c>errorDeclaration.declarationTime</c> at or after this instant.</summary>
    public DateTimeOffset? GeErrorDeclarationTime { get; init; }

    /// <summary><c>LT_errorDeclarationTime</c>: <c>errorDeclaration.declarationTime</c> before this instant.</summary>
    public DateTimeOffset? LtErrorDeclarationTime { get; init; }

    /// <summary><c>EXISTS_sensorElementList</c>: the event has a non-empty <c>sensorElementList</c>.</summary>
    public bool ExistsSensorElementList { get; init; }

    /// <summary>The sensor parameters; every one of them must hold for one and the same sensor report.</summary>
    public SensorFilter? Sensor { get; init; }

    /// <summary><c>EQ_quantity_&lt;uom&gt;</c>… <c>LE_quantity_&lt;uom&gt;</c>: one quantity element meets every bound, in its units.</summary>
    public IReadOnlyList<MeasureBound>? QuantitiesWithUnit { get; init; }

    /// <summary>The extension-field parameters, each of which must hold.</summary>
    public IReadOnlyList<FieldFilter>? Fields { get; init; }

    /// <summary>The master-data parameters (<c>WD_</c>, <c>EQ_ATTR_</c>, <c>HASATTR_</c>), each of which must hold.</summary>
    public IReadOnlyList<MasterDataFilter>? MasterData { get; init; }

    /// <summary>True when a parameter needs master data: run <see cref="Resolve"/> with what the caller may use first.</summary>
    public bool NeedsMasterData => MasterData is { Count: > 0 };

    /// <summary>
    /// The query with every master-data parameter turned into the set of identifiers it stands for in
    /// <paramref name="view"/> (the master data the caller may use). Pure: the repository reads the view once per run.
    /// </summary>
    public EpcisQuery Resolve(MasterDataView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return MasterData is null ? this : this with { MasterData = MasterData.Select(f => f with { Resolved = view.Resolve(f) }).ToList() };
    }

    [GeneratedRegex("^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue|quantity)_([A-Z0-9]{2,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex MeasureParameter();

    [GeneratedRegex("^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?(ILMD_|ERROR_DECLARATION_|SENSORELEMENT_|SENSORMETADATA_|SENSORREPORT_|readPoint_|bizLocation_)?(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldParameter();

    private static readonly string[] SensorUriParameters = ["EQ_deviceID", "EQ_dataProcessingMethod", "EQ_microorganism", "EQ_chemicalSubstance", "EQ_bizRules", "EQ_uriValue"];

    /// <summary>The parameters of this file; any other name is unknown (QueryParameterException naming it).</summary>
    private static EpcisQuery ParseMore(string name, ParameterReader reader, EpcisQuery query)
    {
        SensorFilter Sensor() => query.Sensor ?? new SensorFilter();
        switch (name)
        {
            case "EQ_persistentDisposition_set":
                return reader.List() is { } set ? query with { PersistentDispositionSet = CbvFilter.Dispositions(set) } : query;
            case "EQ_persistentDisposition_unset":
                return reader.List() is { } unset ? query with { PersistentDispositionUnset = CbvFilter.Dispositions(unset) } : query;
            case "EQ_transformationID":
                return query with { TransformationIds = reader.Identifiers(allowPatterns: false) };
            case "MATCH_epcClass":
                return query with { MatchEpcClass = Classes(reader) };
            case "MATCH_inputEPCClass":
                return query with { MatchInputEpcClass = Classes(reader) };
            case "MATCH_outputEPCClass":
                return query with { MatchOutputEpcClass = Classes(reader) };
            case "MATCH_anyEPCClass":
                return query with { MatchAnyEpcClass = Classes(reader) };
            // The standard's text writes GE_errorDeclarationTime; the REST binding's query schema GE_errorDeclaration_Time.
            case "GE_errorDeclarationTime" or "GE_errorDeclaration_Time":
                return query with { GeErrorDeclarationTime = reader.Time() };
            case "LT_errorDeclarationTime" or "LT_errorDeclaration_Time":
                return query with { LtErrorDeclarationTime = reader.Time() };
            case "EXISTS_sensorElementList":
                return query with { ExistsSensorElementList = reader.Boolean() };
            case "EQ_type":
                return reader.List() is { } types ? query with { Sensor = Sensor() with { Types = types.Select(SensorFilter.TypeWord).ToArray() } } : query;
            case "EQ_stringValue":
                return query with { Sensor = Sensor() with { StringValues = reader.List() } };
            case "EQ_hexBinaryValue":
                return HexValues(reader) is { } hex ? query with { Sensor = Sensor() with { HexBinaryValues = hex } } : query;
            case "EQ_booleanValue":
                return BooleanValue(reader) is { } flag ? query with { Sensor = Sensor() with { BooleanValue = flag } } : query;
            case "GE_time":
                return query with { Sensor = Sensor() with { GeTime = reader.Time() } };
            case "LT_time":
                return query with { Sensor = Sensor() with { LtTime = reader.Time() } };
            case "GE_startTime":
                return query with { Sensor = Sensor() with { GeStartTime = reader.Time() } };
            case "LT_startTime":
                return query with { Sensor = Sensor() with { LtStartTime = reader.Time() } };
            case "GE_endTime":
                return query with { Sensor = Sensor() with { GeEndTime = reader.Time() } };
            case "LT_endTime":
                return query with { Sensor = Sensor() with { LtEndTime = reader.Time() } };
            case "GT_percRank" or "GE_percRank" or "LT_percRank" or "LE_percRank":
                return reader.Number() is { } rank
                    ? query with { Sensor = Sensor() with { Bounds = [.. Sensor().Bounds, new MeasureBound("percRank", OpOf(name[..2]), null, rank)] } }
                    : query;
        }

        if (SensorUriParameters.Contains(name, StringComparer.Ordinal))
        {
            var uris = reader.Identifiers(allowPatterns: false);
            return uris is null ? query : query with
            {
                Sensor = name switch
                {
                    "EQ_deviceID" => Sensor() with { DeviceIds = uris },
                    "EQ_dataProcessingMethod" => Sensor() with { DataProcessingMethods = uris },
                    "EQ_microorganism" => Sensor() with { Microorganisms = uris },
                    "EQ_chemicalSubstance" => Sensor() with { ChemicalSubstances = uris },
                    "EQ_bizRules" => Sensor() with { BizRules = uris },
                    _ => Sensor() with { UriValues = uris },
                },
            };
        }

        if (MeasureParameter().Match(name) is { Success: true } measure)
        {
            if (reader.Number() is not { } number)
            {
                return query;
            }

            var bound = new MeasureBound(measure.Groups[2].Value, OpOf(measure.Groups[1].Value), measure.Groups[3].Value, number);
            return bound.Field == "quantity"
                ? query with { QuantitiesWithUnit = [.. query.QuantitiesWithUnit ?? [], bound] }
                : query with { Sensor = Sensor() with { Bounds = [.. Sensor().Bounds, bound] } };
        }

        if (name.StartsWith("WD_", StringComparison.Ordinal) || name.StartsWith("EQ_ATTR_", StringComparison.Ordinal) || name.StartsWith("HASATTR_", StringComparison.Ordinal))
        {
            return MasterDataParameter(name, reader, query);
        }

        if (FieldParameter().Match(name) is { Success: true } field && IsExtensionFieldName(field.Groups[4].Value))
        {
            return FieldParameterOf(name, field, reader, query);
        }

        return reader.Refuse($"Unknown query parameter '{name}'.", query);
    }

    /// <summary>An extension field's name: a prefixed name (<c>example:temperature</c>) or a namespace IRI with the name after '#'.</summary>
    private static bool IsExtensionFieldName(string field) => field.Length > 2 && field.IndexOfAny([':', '#']) is > 0 and var at && at < field.Length - 1;

    private static EpcisQuery MasterDataParameter(string name, ParameterReader reader, EpcisQuery query)
    {
        MasterDataFilter? filter = null;
        if (name is "WD_readPoint" or "WD_bizLocation")
        {
            filter = reader.Identifiers(allowPatterns: false) is { } ids ? new MasterDataFilter(name, MasterDataKind.Within, name[3..], null, ids.Values) : null;
        }
        else if (name.StartsWith("HASATTR_", StringComparison.Ordinal))
        {
            var field = name["HASATTR_".Length..];
            if (field.Length == 0)
            {
                return reader.Refuse($"'{name}' names no field: HASATTR_<field> (e.g. HASATTR_bizLocation).", query);
            }

            filter = reader.List() is { } attributes ? new MasterDataFilter(name, MasterDataKind.HasAttribute, field, null, attributes) : null;
        }
        else if (name.StartsWith("EQ_ATTR_", StringComparison.Ordinal))
        {
            // EQ_ATTR_<field>_<attribute>: the field is a standard field (no '_') or an extension field; the attribute
            // may itself hold '_' (cbvmda:sst_code), so the first '_' after the prefix separates the two.
            var rest = name["EQ_ATTR_".Length..];
            var split = rest.IndexOf('_', StringComparison.Ordinal);
            if (split <= 0 || split == rest.Length - 1)
            {
                return reader.Refuse($"'{name}' is not EQ_ATTR_<field>_<attribute> (e.g. EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda#sst).", query);
            }

            filter = reader.List() is { } values ? new MasterDataFilter(name, MasterDataKind.Attribute, rest[..split], rest[(split + 1)..], values) : null;
        }
        else
        {
            return reader.Refuse($"Unknown query parameter '{name}': WD_ applies to readPoint and bizLocation only.", query);
        }

        return filter is null ? query : query with { MasterData = [.. query.MasterData ?? [], filter] };
    }

    private static EpcisQuery FieldParameterOf(string name, Match match, ParameterReader reader, EpcisQuery query)
    {
        var scope = match.Groups[3].Value switch
        {
            "ILMD_" => FieldScope.Ilmd,
            "ERROR_DECLARATION_" => FieldScope.ErrorDeclaration,
            "SENSORELEMENT_" => FieldScope.SensorElement,
            "SENSORMETADATA_" => FieldScope.SensorMetadata,
            "SENSORREPORT_" => FieldScope.SensorReport,
            "readPoint_" => FieldScope.ReadPoint,
            "bizLocation_" => FieldScope.BizLocation,
            _ => FieldScope.Event,
        };
        var op = match.Groups[1].Value;
        var inner = match.Groups[2].Success;
        var field = match.Groups[4].Value;
        FieldFilter? filter;
        switch (op)
        {
            case "EXISTS":
                filter = reader.Boolean() ? new FieldFilter(name, scope, inner, field, FieldOp.Exists, [], null, null) : null;
                break;
            case "EQ":
                filter = reader.List() is { } values ? new FieldFilter(name, scope, inner, field, FieldOp.Eq, values, null, null) : null;
                break;
            default:
                // GT/GE/LT/LE take one Int, Float or Time: a date-time compares instants, anything else must be a number.
                if (reader.Single() is not { } value)
                {
                    return query;
                }

                // A '+' offset sent unescaped in a URL arrives as a space after form decoding (as for the event times).
                if (value.Length > 6 && value[^6] == ' ')
                {
                    value = string.Concat(value.AsSpan(0, value.Length - 6), "+", value.AsSpan(value.Length - 5));
                }

                if (FieldFilter.TryTime(value, out var time))
                {
                    filter = new FieldFilter(name, scope, inner, field, OpOf(op) switch { MeasureOp.Gt => FieldOp.Gt, MeasureOp.Ge => FieldOp.Ge, MeasureOp.Lt => FieldOp.Lt, _ => FieldOp.Le }, [], null, time);
                }
                else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    filter = new FieldFilter(name, scope, inner, field, OpOf(op) switch { MeasureOp.Gt => FieldOp.Gt, MeasureOp.Ge => FieldOp.Ge, MeasureOp.Lt => FieldOp.Lt, _ => FieldOp.Le }, [], number, null);
                }
                else
                {
                    return reader.Refuse($"'{value}' is neither a number nor an RFC 3339 date-time with a time zone.", query);
                }

                break;
        }

        return filter is null ? query : query with { Fields = [.. query.Fields ?? [], filter] };
    }

    private static MeasureOp OpOf(string op) => op switch
    {
        "EQ" => MeasureOp.Eq,
        "GT" => MeasureOp.Gt,
        "GE" => MeasureOp.Ge,
        "LT" => MeasureOp.Lt,
        _ => MeasureOp.Le,
    };

    private static EpcClassFilter? Classes(ParameterReader reader)
    {
        if (reader.List() is not { } list)
        {
            return null;
        }

        return EpcClassFilter.TryCreate(list, out var filter, out var problem) ? filter : reader.Refuse(problem!, (EpcClassFilter?)null);
    }

    private static IReadOnlyList<string>? HexValues(ParameterReader reader)
    {
        if (reader.List() is not { } list)
        {
            return null;
        }

        foreach (var value in list)
        {
            if (value.Length % 2 != 0 || !value.All(char.IsAsciiHexDigit))
            {
                return reader.Refuse($"'{value}' is not hexBinary: an even number of hexadecimal digits.", (IReadOnlyList<string>?)null);
            }
        }

        return list.Select(v => v.ToUpperInvariant()).ToArray();
    }

    private static bool? BooleanValue(ParameterReader reader) => reader.Single() switch
    {
        null => null,
        "true" => true,
        "false" => false,
        var other => reader.Refuse($"'{other}' is not a boolean: expected true or false.", (bool?)null),
    };

    /// <summary>The parameters of this file, for <see cref="Matches(JsonElement, DateTimeOffset?)"/>.</summary>
    private bool MatchesMore(JsonElement evt, Span<char> buffer)
    {
        if (PersistentDispositionSet is { } set && !AnyCbv(evt, "set", set))
        {
            return false;
        }

        if (PersistentDispositionUnset is { } unset && !AnyCbv(evt, "unset", unset))
        {
            return false;
        }

        if (TransformationIds is { } transformations && !(JsonText.TryGetMember(evt, "transformationID"u8, buffer, out var transformation) && transformations.Matches(transformation)))
        {
            return false;
        }

        if ((MatchEpcClass is { } classes && !AnyClass(evt, classes, "quantityList", "childQuantityList"))
            || (MatchInputEpcClass is { } inputClasses && !AnyClass(evt, inputClasses, "inputQuantityList"))
            || (MatchOutputEpcClass is { } outputClasses && !AnyClass(evt, outputClasses, "outputQuantityList"))
            || (MatchAnyEpcClass is { } anyClasses && !AnyClass(evt, anyClasses, "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")))
        {
            return false;
        }

        if ((GeErrorDeclarationTime is not null || LtErrorDeclarationTime is not null)
            && !(evt.TryGetProperty("errorDeclaration"u8, out var declaration) && TryGetTime(declaration, "declarationTime"u8, out var declared)
                && InRange(declared, GeErrorDeclarationTime, LtErrorDeclarationTime)))
        {
            return false;
        }

        if (ExistsSensorElementList && !(evt.TryGetProperty("sensorElementList"u8, out var sensors) && sensors.ValueKind == JsonValueKind.Array && sensors.GetArrayLength() > 0))
        {
            return false;
        }

        if (Sensor is { } sensor && !sensor.Matches(evt))
        {
            return false;
        }

        if (QuantitiesWithUnit is { } bounds && !AnyQuantityWithUnit(evt, bounds))
        {
            return false;
        }

        if (Fields is { } fields)
        {
            var context = JsonLdPrefixes.Of(evt);
            foreach (var field in fields)
            {
                if (!field.Matches(evt, context))
                {
                    return false;
                }
            }
        }

        if (MasterData is { } masterData)
        {
            foreach (var filter in masterData)
            {
                if (!filter.Matches(evt))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool AnyCbv(JsonElement evt, string member, CbvFilter filter) =>
        evt.TryGetProperty("persistentDisposition"u8, out var persistent) && persistent.ValueKind == JsonValueKind.Object
        && persistent.TryGetProperty(member, out var values) && values.ValueKind == JsonValueKind.Array
        && values.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.String && filter.Matches(v.GetString()));

    private static bool AnyClass(JsonElement evt, EpcClassFilter filter, params string[] lists)
    {
        foreach (var element in QuantityElements(evt, lists))
        {
            if (element.TryGetProperty("epcClass"u8, out var epcClass) && epcClass.ValueKind == JsonValueKind.String && filter.Matches(epcClass.GetString()!))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<JsonElement> QuantityElements(JsonElement evt, params string[] lists)
    {
        foreach (var list in lists)
        {
            if (evt.TryGetProperty(list, out var elements) && elements.ValueKind == JsonValueKind.Array)
            {
                foreach (var element in elements.EnumerateArray())
                {
                    if (element.ValueKind == JsonValueKind.Object)
                    {
                        yield return element;
                    }
                }
            }
        }
    }

    private static bool AnyQuantityWithUnit(JsonElement evt, IReadOnlyList<MeasureBound> bounds)
    {
        foreach (var element in QuantityElements(evt, "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"))
        {
            if (element.TryGetProperty("quantity"u8, out var quantity) && quantity.ValueKind == JsonValueKind.Number
                && element.TryGetProperty("uom"u8, out var uom) && uom.ValueKind == JsonValueKind.String
                && bounds.All(b => b.Holds(quantity.GetDouble(), uom.GetString())))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A comparison of a measured value with a bound.</summary>
public enum MeasureOp
{
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// <summary>
/// One bound on a measured value: a sensor report's <c>value</c>, <c>minValue</c>, <c>maxValue</c>, <c>meanValue</c>,
/// <c>sDev</c>, <c>percValue</c> or <c>percRank</c>, or a quantity element's <c>quantity</c>, in the unit
/// <see cref="Uom"/> (null for <c>percRank</c>, a percentile rank without unit). A value in another unit is converted
/// when <see cref="Units"/> knows both (same dimension); otherwise it does not meet the bound.
/// </summary>
public sealed record MeasureBound(string Field, MeasureOp Op, string? Uom, double Value)
{
    /// <summary>True when <paramref name="measured"/>, given in <paramref name="uom"/>, meets the bound.</summary>
    public bool Holds(double measured, string? uom)
    {
        if (Uom is not null)
        {
            // A standard deviation is a difference: converting it scales without the offset of a temperature scale.
            if (uom is null || !Units.TryConvert(measured, uom, Uom, difference: Field == "sDev", out measured))
            {
                return false;
            }
        }

        // Values converted between scales carry rounding noise: equal within a relative 1e-9 counts as equal.
        var tolerance = Math.Max(Math.Abs(Value), 1) * 1e-9;
        return Op switch
        {
            MeasureOp.Eq => Math.Abs(measured - Value) <= tolerance,
            MeasureOp.Gt => measured > Value + tolerance,
            MeasureOp.Ge => measured >= Value - tolerance,
            MeasureOp.Lt => measured < Value - tolerance,
            _ => measured <= Value + tolerance,
        };
    }
}

/// <summary>
/// Unit conversion for the query's unit-suffixed parameters (UN/ECE Recommendation 20 codes, the units EPCIS uses).
/// The standard leaves conversion to the repository: this one converts between the codes of one dimension listed
/// here (temperature, mass, length, volume, pressure, time, electric potential, relative humidity and the like are
/// compared only in the same code) and requires the same code otherwise.
/// </summary>
public static class Units
{
    /// <summary>Code → (dimension, factor, offset): value in the dimension's base unit = value × factor + offset.</summary>
    private static readonly Dictionary<string, (string Dimension, double Factor, double Offset)> Known = new(StringComparer.Ordinal)
    {
        ["KEL"] = ("temperature", 1, 0),
        ["CEL"] = ("temperature", 1, 273.15),
        ["FAH"] = ("temperature", 5.0 / 9, 273.15 - (32 * 5.0 / 9)),
        ["KGM"] = ("mass", 1, 0),
        ["GRM"] = ("mass", 1e-3, 0),
        ["MGM"] = ("mass", 1e-6, 0),
        ["TNE"] = ("mass", 1e3, 0),
        ["LBR"] = ("mass", 0.45359237, 0),
        ["MTR"] = ("length", 1, 0),
        ["KMT"] = ("length", 1e3, 0),
        ["CMT"] = ("length", 1e-2, 0),
        ["MMT"] = ("length", 1e-3, 0),
        ["MTQ"] = ("volume", 1, 0),
        ["LTR"] = ("volume", 1e-3, 0),
        ["MLT"] = ("volume", 1e-6, 0),
        ["PAL"] = ("pressure", 1, 0),
        ["KPA"] = ("pressure", 1e3, 0),
        ["BAR"] = ("pressure", 1e5, 0),
        ["MBR"] = ("pressure", 1e2, 0),
        ["SEC"] = ("time", 1, 0),
        ["MIN"] = ("time", 60, 0),
        ["HUR"] = ("time", 3600, 0),
        ["VLT"] = ("voltage", 1, 0),
        ["2Z"] = ("voltage", 1e-3, 0),
    };

    /// <summary>
    /// <paramref name="value"/> in <paramref name="from"/> expressed in <paramref name="to"/>; false when the codes
    /// differ and are not both known in one dimension. A <paramref name="difference"/> (a spread) converts without offset.
    /// </summary>
    public static bool TryConvert(double value, string from, string to, bool difference, out double converted)
    {
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            converted = value;
            return true;
        }

        if (Known.TryGetValue(from, out var source) && Known.TryGetValue(to, out var target) && source.Dimension == target.Dimension)
        {
            var inBase = (value * source.Factor) + (difference ? 0 : source.Offset);
            converted = (inBase - (difference ? 0 : target.Offset)) / target.Factor;
            return true;
        }

        converted = 0;
        return false;
    }
}

/// <summary>
/// The sensor parameters of one query (<c>EQ_type</c>, <c>EQ_deviceID</c>, <c>GE_value_CEL</c>…): all must hold for
/// one sensor report of one sensor element, read with its element's <c>sensorMetadata</c> (which gives
/// <c>startTime</c>, <c>endTime</c> and <c>bizRules</c>, and the <c>time</c>, <c>deviceID</c> and
/// <c>dataProcessingMethod</c> a report does not give itself). A sensor element without reports is tested once, on
/// its metadata alone.
/// </summary>
public sealed record SensorFilter
{
    public IReadOnlyList<string>? Types { get; init; }

    public EpcFilter? DeviceIds { get; init; }

    public EpcFilter? DataProcessingMethods { get; init; }

    public EpcFilter? Microorganisms { get; init; }

    public EpcFilter? ChemicalSubstances { get; init; }

    public EpcFilter? BizRules { get; init; }

    public EpcFilter? UriValues { get; init; }

    public IReadOnlyList<string>? StringValues { get; init; }

    /// <summary>Upper-case hexadecimal digits; compared without regard to case.</summary>
    public IReadOnlyList<string>? HexBinaryValues { get; init; }

    public bool? BooleanValue { get; init; }

    public DateTimeOffset? GeTime { get; init; }

    public DateTimeOffset? LtTime { get; init; }

    public DateTimeOffset? GeStartTime { get; init; }

    public DateTimeOffset? LtStartTime { get; init; }

    public DateTimeOffset? GeEndTime { get; init; }

    public DateTimeOffset? LtEndTime { get; init; }

    public IReadOnlyList<MeasureBound> Bounds { get; init; } = [];

    /// <summary>A measurement type as its bare GS1 Web Vocabulary word: <c>gs1:Temperature</c>, <c>https://gs1.org/voc/Temperature</c>
    /// and <c>Temperature</c> are one type (and the draft spelling <c>gs1:MT-Temperature</c> too).</summary>
    public static string TypeWord(string type)
    {
        foreach (var prefix in (string[])["https://gs1.org/voc/", "http://gs1.org/voc/", "gs1:"])
        {
            if (type.StartsWith(prefix, StringComparison.Ordinal))
            {
                type = type[prefix.Length..];
                break;
            }
        }

        return type.StartsWith("MT-", StringComparison.Ordinal) ? type[3..] : type;
    }

    public bool Matches(JsonElement evt)
    {
        if (!evt.TryGetProperty("sensorElementList"u8, out var elements) || elements.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var element in elements.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            element.TryGetProperty("sensorMetadata"u8, out var metadata);
            if (element.TryGetProperty("sensorReport"u8, out var reports) && reports.ValueKind == JsonValueKind.Array && reports.GetArrayLength() > 0)
            {
                foreach (var report in reports.EnumerateArray())
                {
                    if (report.ValueKind == JsonValueKind.Object && Holds(metadata, report))
                    {
                        return true;
                    }
                }
            }
            else if (Holds(metadata, default))
            {
                return true;
            }
        }

        return false;
    }

    private bool Holds(JsonElement metadata, JsonElement report)
    {
        return (Types is null || (Text(report, "type") is { } type && Types.Contains(TypeWord(type), StringComparer.Ordinal)))
            && Uri(DeviceIds, Text(report, "deviceID") ?? Text(metadata, "deviceID"))
            && Uri(DataProcessingMethods, Text(report, "dataProcessingMethod") ?? Text(metadata, "dataProcessingMethod"))
            && Uri(Microorganisms, Text(report, "microorganism"))
            && Uri(ChemicalSubstances, Text(report, "chemicalSubstance"))
            && Uri(BizRules, Text(metadata, "bizRules"))
            && Uri(UriValues, Text(report, "uriValue"))
            && (StringValues is null || (Text(report, "stringValue") is { } text && StringValues.Contains(text, StringComparer.Ordinal)))
            && (HexBinaryValues is null || (Text(report, "hexBinaryValue") is { } hex && HexBinaryValues.Contains(hex.ToUpperInvariant(), StringComparer.Ordinal)))
            && (BooleanValue is not { } flag || (Member(report, "booleanValue") is { } b && b.ValueKind == (flag ? JsonValueKind.True : JsonValueKind.False)))
            && InRange(Text(report, "time") ?? Text(metadata, "time"), GeTime, LtTime)
            && InRange(Text(metadata, "startTime"), GeStartTime, LtStartTime)
            && InRange(Text(metadata, "endTime"), GeEndTime, LtEndTime)
            && Bounds.All(bound => Member(report, bound.Field) is { ValueKind: JsonValueKind.Number } value && bound.Holds(value.GetDouble(), Text(report, "uom")));

        static bool Uri(EpcFilter? filter, string? value) => filter is null || (value is not null && filter.Matches(value));
    }

    private static bool InRange(string? text, DateTimeOffset? ge, DateTimeOffset? lt) =>
        (ge is null && lt is null)
        || (text is not null && FieldFilter.TryTime(text, out var time) && (ge is not { } from || time >= from) && (lt is not { } before || time < before));

    private static JsonElement? Member(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) ? value : null;

    private static string? Text(JsonElement obj, string name) => Member(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}

/// <summary>The EPC class values of <c>MATCH_epcClass</c> and its kin: class URIs (exact, in any spelling the
/// identifier normaliser knows) and EPC patterns (<c>urn:epc:idpat:sgtin:0614141.107346.*</c>), which match an LGTIN
/// class as the SGTIN pattern's lot, and a class written as the same pattern.</summary>
public sealed class EpcClassFilter
{
    private readonly HashSet<string> _exact;
    private readonly EpcPattern[] _patterns;

    private EpcClassFilter(HashSet<string> exact, EpcPattern[] patterns) => (_exact, _patterns) = (exact, patterns);

    internal static bool TryCreate(IReadOnlyList<string> values, out EpcClassFilter? filter, out string? problem)
    {
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var patterns = new List<EpcPattern>();
        foreach (var value in values)
        {
            if (value.StartsWith(EpcPattern.Prefix, StringComparison.Ordinal))
            {
                if (EpcPattern.TryParse(value) is not { } pattern)
                {
                    (filter, problem) = (null, $"'{value}' is not a valid EPC pattern URI (e.g. urn:epc:idpat:sgtin:0614141.107346.*).");
                    return false;
                }

                patterns.Add(pattern);
                exact.Add(value);
            }
            else if (System.Uri.TryCreate(value, UriKind.Absolute, out _))
            {
                exact.Add(EventTerms.CanonicalEpc(value));
            }
            else
            {
                (filter, problem) = (null, $"'{value}' is neither an EPC class URI nor an EPC pattern.");
                return false;
            }
        }

        (filter, problem) = (new EpcClassFilter(exact, [.. patterns]), null);
        return true;
    }

    public bool Matches(string epcClass)
    {
        if (_exact.Contains(epcClass) || _exact.Contains(EventTerms.CanonicalEpc(epcClass)))
        {
            return true;
        }

        // urn:epc:class:lgtin:CP.ITEM.LOT is the class of the SGTINs urn:epc:id:sgtin:CP.ITEM.*: a pattern of those
        // (sgtin:CP.ITEM.*) matches it, as does one naming the lot in the serial's place.
        const string Lgtin = "urn:epc:class:lgtin:";
        var asId = epcClass.StartsWith(Lgtin, StringComparison.Ordinal) ? "urn:epc:id:sgtin:" + epcClass[Lgtin.Length..] : epcClass;
        return _patterns.Any(p => p.MatchesUrn(asId));
    }
}

/// <summary>Where an extension-field parameter looks: the event, or one of its parts.</summary>
public enum FieldScope
{
    Event,
    Ilmd,
    ErrorDeclaration,
    SensorElement,
    SensorMetadata,
    SensorReport,
    ReadPoint,
    BizLocation,
}

/// <summary>The comparison of an extension-field parameter.</summary>
public enum FieldOp
{
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    Exists,
}

/// <summary>
/// One extension-field parameter (<c>EQ_example:temperature</c>, <c>GE_INNER_ILMD_example:grade</c>,
/// <c>EXISTS_ERROR_DECLARATION_example:reason</c>…). The field is named as the event names it (the REST binding's
/// prefixed name, <c>example:temperature</c>), or by its namespace IRI and name (<c>https://ns.example.com/epcis/#temperature</c>
/// or the IRI the event's <c>@context</c> expands the prefixed name to). Without INNER the field is a member of the
/// scope's object; with INNER it is nested anywhere inside one of the scope's extension members. EQ takes strings (a number or date-time compares by
/// value); GT/GE/LT/LE one number (<see cref="Number"/>) or instant (<see cref="Time"/>); EXISTS a non-empty value.
/// </summary>
public sealed record FieldFilter(string Parameter, FieldScope Scope, bool Inner, string Field, FieldOp Op, IReadOnlyList<string> Values, double? Number, DateTimeOffset? Time)
{
    private static readonly string[] TimeFormats = ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    /// <summary>An RFC 3339 date-time with a time zone.</summary>
    public static bool TryTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    public bool Matches(JsonElement evt, JsonLdPrefixes context)
    {
        foreach (var scope in Scopes(evt))
        {
            if (scope.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var member in scope.EnumerateObject())
            {
                // INNER looks only inside the scope's extension members (the standard: "nested within a top-level
                // extension element"); standard members never have a prefix, so a ':' in the name marks an extension.
                if (Inner
                    ? member.Name.Contains(':', StringComparison.Ordinal) && AnyInner(member.Value, context)
                    : context.Names(member.Name, Field) && Holds(member.Value))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private bool AnyInner(JsonElement value, JsonLdPrefixes context)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            return value.EnumerateArray().Any(item => AnyInner(item, context));
        }

        return value.ValueKind == JsonValueKind.Object
            && value.EnumerateObject().Any(member => (context.Names(member.Name, Field) && Holds(member.Value)) || AnyInner(member.Value, context));
    }

    private IEnumerable<JsonElement> Scopes(JsonElement evt)
    {
        switch (Scope)
        {
            case FieldScope.Event:
                yield return evt;
                yield break;
            case FieldScope.Ilmd:
            case FieldScope.ErrorDeclaration:
            case FieldScope.ReadPoint:
            case FieldScope.BizLocation:
                var name = Scope switch { FieldScope.Ilmd => "ilmd", FieldScope.ErrorDeclaration => "errorDeclaration", FieldScope.ReadPoint => "readPoint", _ => "bizLocation" };
                if (evt.TryGetProperty(name, out var part))
                {
                    yield return part;
                }

                yield break;
        }

        if (!evt.TryGetProperty("sensorElementList"u8, out var elements) || elements.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var element in elements.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
        {
            if (Scope == FieldScope.SensorElement)
            {
                yield return element;
            }
            else if (Scope == FieldScope.SensorMetadata && element.TryGetProperty("sensorMetadata"u8, out var metadata))
            {
                yield return metadata;
            }
            else if (Scope == FieldScope.SensorReport && element.TryGetProperty("sensorReport"u8, out var reports) && reports.ValueKind == JsonValueKind.Array)
            {
                foreach (var report in reports.EnumerateArray())
                {
                    yield return report;
                }
            }
        }
    }

    private bool Holds(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            return Op == FieldOp.Exists ? value.GetArrayLength() > 0 : value.EnumerateArray().Any(Holds);
        }

        switch (Op)
        {
            case FieldOp.Exists:
                return value.ValueKind switch
                {
                    JsonValueKind.Null or JsonValueKind.Undefined => false,
                    JsonValueKind.String => value.GetString()!.Length > 0,
                    JsonValueKind.Object => value.EnumerateObject().Any(),
                    _ => true,
                };
            case FieldOp.Eq:
                return Values.Any(v => EqualsValue(value, v));
        }

        int compared;
        if (Time is { } bound)
        {
            if (value.ValueKind != JsonValueKind.String || !TryTime(value.GetString()!, out var time))
            {
                return false;
            }

            compared = time.CompareTo(bound);
        }
        else if (NumberOf(value) is { } number)
        {
            compared = number.CompareTo(Number!.Value);
        }
        else
        {
            return false;
        }

        return Op switch
        {
            FieldOp.Gt => compared > 0,
            FieldOp.Ge => compared >= 0,
            FieldOp.Lt => compared < 0,
            _ => compared <= 0,
        };
    }

    /// <summary>A number, or a string holding one (the XML binding writes extension values as text).</summary>
    private static double? NumberOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static bool EqualsValue(JsonElement value, string wanted) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { } text
            && (string.Equals(text, wanted, StringComparison.Ordinal)
                || (TryTime(text, out var a) && TryTime(wanted, out var b) && a == b)
                || (NumberOf(value) is { } n && double.TryParse(wanted, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && n == m)),
        JsonValueKind.Number => double.TryParse(wanted, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && value.GetDouble() == number,
        JsonValueKind.True => wanted == "true",
        JsonValueKind.False => wanted == "false",
        _ => false,
    };
}

/// <summary>The prefixes an event's own <c>@context</c> defines (<c>{"example": "https://ns.example.com/epcis/"}</c>), for
/// naming an extension field by its IRI.</summary>
public sealed class JsonLdPrefixes
{
    private static readonly JsonLdPrefixes None = new([]);
    private readonly Dictionary<string, string> _prefixes;

    private JsonLdPrefixes(Dictionary<string, string> prefixes) => _prefixes = prefixes;

    public static JsonLdPrefixes Of(JsonElement evt)
    {
        if (!evt.TryGetProperty("@context"u8, out var context))
        {
            return None;
        }

        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in context.ValueKind == JsonValueKind.Array ? context.EnumerateArray().ToArray() : [context])
        {
            if (part.ValueKind == JsonValueKind.Object)
            {
                foreach (var member in part.EnumerateObject().Where(m => m.Value.ValueKind == JsonValueKind.String))
                {
                    prefixes[member.Name] = member.Value.GetString()!;
                }
            }
        }

        return new JsonLdPrefixes(prefixes);
    }

    /// <summary>True when the member <paramref name="name"/> is the field <paramref name="field"/>: the same name, or
    /// a prefixed name whose namespace and local name are the field's IRI (with or without '#' between them).</summary>
    public bool Names(string name, string field)
    {
        if (string.Equals(name, field, StringComparison.Ordinal))
        {
            return true;
        }

        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !_prefixes.TryGetValue(name[..colon], out var ns))
        {
            return false;
        }

        var local = name.AsSpan(colon + 1);
        return field.Length == ns.Length + local.Length + 1 && field.StartsWith(ns, StringComparison.Ordinal) && field[ns.Length] == '#' && field.AsSpan(ns.Length + 1).SequenceEqual(local)
            || (field.Length == ns.Length + local.Length && field.StartsWith(ns, StringComparison.Ordinal) && field.AsSpan(ns.Length).SequenceEqual(local));
    }
}

/// <summary>The kind of a master-data parameter.</summary>
public enum MasterDataKind
{
    /// <summary><c>WD_readPoint</c>, <c>WD_bizLocation</c>: the value or a direct or indirect child of it.</summary>
    Within,

    /// <summary><c>EQ_ATTR_&lt;field&gt;_&lt;attribute&gt;</c>: the field's element has the attribute with one of the values.</summary>
    Attribute,

    /// <summary><c>HASATTR_&lt;field&gt;</c>: the field's element has one of the attributes, non-null.</summary>
    HasAttribute,
}

/// <summary>
/// One master-data parameter. <see cref="Field"/> is the event field whose value is a vocabulary element: <c>readPoint</c>
/// and <c>bizLocation</c> (their <c>id</c>), or any other field by name (<c>bizStep</c>, an extension field).
/// <see cref="Resolved"/> is the set of element ids (canonical, <see cref="EventTerms.CanonicalEpc"/>) the parameter
/// stands for once resolved against master data (<see cref="EpcisQuery.Resolve"/>); unresolved, it stands for the
/// resolution against no master data: WD_ for its own values, EQ_ATTR_ and HASATTR_ for nothing.
/// </summary>
public sealed record MasterDataFilter(string Parameter, MasterDataKind Kind, string Field, string? Attribute, IReadOnlyList<string> Values)
{
    /// <summary>What the parameter stands for without master data, computed once rather than per event.</summary>
    private readonly HashSet<string> _withoutMasterData = Kind == MasterDataKind.Within
        ? Values.Select(EventTerms.CanonicalEpc).ToHashSet(StringComparer.Ordinal)
        : [];

    public IReadOnlySet<string>? Resolved { get; init; }

    public bool Matches(JsonElement evt)
    {
        var ids = Resolved ?? _withoutMasterData;
        JsonElement value;
        if (Field is "readPoint" or "bizLocation")
        {
            if (!evt.TryGetProperty(Field, out var place) || place.ValueKind != JsonValueKind.Object || !place.TryGetProperty("id"u8, out value))
            {
                return false;
            }
        }
        else if (!evt.TryGetProperty(Field, out value))
        {
            return false;
        }

        return value.ValueKind == JsonValueKind.String && ids.Contains(EventTerms.CanonicalEpc(value.GetString()!));
    }
}

/// <summary>
/// The master data one query run may use (for the repository, what the caller may see: docs/epcis-query.md), by
/// element id in canonical form. An id given under several vocabularies or by several sources is one element whose
/// attributes and children are the union.
/// </summary>
public sealed class MasterDataView
{
    public static readonly MasterDataView Empty = new([]);

    private readonly Dictionary<string, (List<MasterDataAttribute> Attributes, List<string> Children)> _elements = new(StringComparer.Ordinal);

    public MasterDataView(IEnumerable<MasterDataElement> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        foreach (var element in elements)
        {
            var id = EventTerms.CanonicalEpc(element.Id);
            if (!_elements.TryGetValue(id, out var entry))
            {
                _elements[id] = entry = ([], []);
            }

            entry.Attributes.AddRange(element.Attributes);
            entry.Children.AddRange(element.Children.Select(EventTerms.CanonicalEpc));
        }
    }

    public int Count => _elements.Count;

    /// <summary>The ids (canonical) <paramref name="filter"/> stands for.</summary>
    public IReadOnlySet<string> Resolve(MasterDataFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        switch (filter.Kind)
        {
            case MasterDataKind.Within:
                // Children of children, once each: a cycle in the master data ends the walk.
                var next = new Queue<string>(filter.Values.Select(EventTerms.CanonicalEpc));
                while (next.TryDequeue(out var id))
                {
                    if (ids.Add(id) && _elements.TryGetValue(id, out var element))
                    {
                        foreach (var child in element.Children)
                        {
                            next.Enqueue(child);
                        }
                    }
                }

                break;
            case MasterDataKind.Attribute:
                foreach (var (id, element) in _elements)
                {
                    if (element.Attributes.Any(a => SameAttribute(a.Id, filter.Attribute!) && filter.Values.Contains(a.Value, StringComparer.Ordinal)))
                    {
                        ids.Add(id);
                    }
                }

                break;
            default:
                foreach (var (id, element) in _elements)
                {
                    if (element.Attributes.Any(a => filter.Values.Any(name => SameAttribute(a.Id, name))))
                    {
                        ids.Add(id);
                    }
                }

                break;
        }

        return ids;
    }

    /// <summary>
    /// An attribute named as the master data names it, or by its CBV master-data word: <c>sst</c>,
    /// <c>cbvmda:sst</c> and <c>urn:epcglobal:cbv:mda#sst</c> are one attribute (the XML and JSON-LD spellings of the
    /// CBV's, and the bare word a query parameter name can carry).
    /// </summary>
    public static bool SameAttribute(string id, string name) => string.Equals(id, name, StringComparison.Ordinal) || string.Equals(Word(id), Word(name), StringComparison.Ordinal);

    private static string Word(string attribute)
    {
        foreach (var prefix in (string[])["urn:epcglobal:cbv:mda#", "urn:epcglobal:cbv:mda:", "cbvmda:", "https://ref.gs1.org/cbv/mda#", "https://gs1.org/voc/", "gs1:"])
        {
            if (attribute.StartsWith(prefix, StringComparison.Ordinal))
            {
                return attribute[prefix.Length..];
            }
        }

        return attribute;
    }
}
