using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Btmc.Epcis.Xml;

/// <summary>
/// Writes the JSON-LD form of a loaded EPCIS XML document (see <see cref="EpcisXmlConverter"/>), collecting every
/// structural problem with its element path and line. One instance converts one document.
/// </summary>
internal sealed partial class XmlToJsonLd
{
    private const string StandardContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
    private const string XsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>Prefixes of the standard EPCIS JSON-LD context; a user namespace may reuse one only if it is the same namespace.</summary>
    private static readonly IReadOnlyDictionary<string, string> StandardPrefixes = Cbv.JsonLdContext.Standard.Prefixes;

    /// <summary>
    /// Terms of the (protected) EPCIS context and member names this converter writes: a prefix must not redefine them.
    /// URI schemes are kept out too, so that no compact name reads as an absolute URI.
    /// </summary>
    private static readonly HashSet<string> ReservedPrefixes = new(StringComparer.Ordinal)
    {
        "id", "type", "baseURL", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "action", "uom", "quantity",
        "epcClass", "epcList", "childEPCs", "inputEPCList", "outputEPCList", "quantityList", "childQuantityList",
        "inputQuantityList", "outputQuantityList", "parentID", "bizStep", "disposition", "persistentDisposition", "set",
        "unset", "readPoint", "bizLocation", "bizTransactionList", "bizTransaction", "sourceList", "source",
        "destinationList", "destination", "sensorElementList", "sensorMetadata", "sensorReport", "ilmd",
        "certificationInfo", "errorDeclaration", "declarationTime", "reason", "correctiveEventIDs", "transformationID",
        "instanceIdentifier", "schemaVersion", "creationDate", "sender", "receiver", "epcisHeader", "epcisBody",
        "eventList", "masterData", "vocabularyList", "queryResults", "subscriptionID", "queryName", "resultsBody",
        "member", "children", "Collection", "EPCISDocument", "EPCISQueryDocument", "ObjectEvent", "AggregationEvent",
        "TransactionEvent", "TransformationEvent", "AssociationEvent", "http", "https", "urn", "_",
    };

    private static readonly string[] EventTypeNames = ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"];

    private static readonly HashSet<string> CommonFields = new(StringComparer.Ordinal)
    {
        "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo", "bizStep",
        "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList",
        "destinationList", "sensorElementList",
    };

    /// <summary>The standard fields of each event type besides <see cref="CommonFields"/> (EPCIS 2.0 section 7.4).</summary>
    private static readonly Dictionary<string, HashSet<string>> TypeFields = new(StringComparer.Ordinal)
    {
        ["ObjectEvent"] = new(["epcList", "quantityList", "action", "ilmd"], StringComparer.Ordinal),
        ["AggregationEvent"] = new(["parentID", "childEPCs", "childQuantityList", "action"], StringComparer.Ordinal),
        ["TransactionEvent"] = new(["parentID", "epcList", "quantityList", "action"], StringComparer.Ordinal),
        ["TransformationEvent"] = new(["inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"], StringComparer.Ordinal),
        ["AssociationEvent"] = new(["parentID", "childEPCs", "childQuantityList", "action"], StringComparer.Ordinal),
    };

    private static readonly string[] EventRequired = ["eventTime", "eventTimeZoneOffset", "action"];
    private static readonly string[] TransformationRequired = ["eventTime", "eventTimeZoneOffset"];

    private static readonly string[] SensorMetadataAttributes =
        ["time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"];

    private static readonly string[] SensorReportStringAttributes =
    [
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "time",
        "microorganism", "chemicalSubstance", "component", "stringValue", "hexBinaryValue", "uriValue", "uom",
        "coordinateReferenceSystem",
    ];

    private static readonly string[] SensorReportNumberAttributes = ["value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The output is an application/ld+json body, never embedded in HTML: escape only what JSON requires,
        // so that "+01:00" stays "+01:00" and non-ASCII text stays readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly List<EpcisProblem> _problems = [];
    private readonly Dictionary<string, string> _prefixOf = new(StringComparer.Ordinal);
    private int? _eventIndex;

    private XmlToJsonLd() => _json = new Utf8JsonWriter(_buffer, WriterOptions);

    public static EpcisXmlConversion Translate(XDocument document)
    {
        var translator = new XmlToJsonLd();
        using (translator._json)
        {
            translator.WriteDocument(document);
            translator._json.Flush();
        }

        return translator._problems.Count > 0
            ? new EpcisXmlConversion(ReadOnlyMemory<byte>.Empty, translator._problems)
            : new EpcisXmlConversion(translator._buffer.WrittenMemory.ToArray(), []);
    }

    private void WriteDocument(XDocument document)
    {
        var root = document.Root;
        if (root is null)
        {
            _problems.Add(new EpcisProblem(null, string.Empty, "The XML document has no root element."));
            return;
        }

        var ns = root.Name.NamespaceName;
        var isCapture = root.Name.LocalName == "EPCISDocument" && ns is EpcisXmlConverter.Epcis2Namespace or EpcisXmlConverter.Epcis1Namespace;
        var isQuery = root.Name.LocalName == "EPCISQueryDocument" && ns is EpcisXmlConverter.EpcisQuery2Namespace or EpcisXmlConverter.EpcisQuery1Namespace;
        if (!isCapture && !isQuery)
        {
            Problem(root, $"The root element is {{{ns}}}{root.Name.LocalName}: expected EPCISDocument in namespace {EpcisXmlConverter.Epcis2Namespace} (or {EpcisXmlConverter.Epcis1Namespace}).");
            return;
        }

        AssignPrefixes(root);
        _json.WriteStartObject();
        _json.WritePropertyName("@context");
        _json.WriteStartArray();
        _json.WriteStringValue(StandardContext);
        var declared = _prefixOf.Where(p => !StandardPrefixes.ContainsKey(p.Value)).ToList();
        if (declared.Count > 0)
        {
            _json.WriteStartObject();
            foreach (var (namespaceName, prefix) in declared)
            {
                _json.WriteString(prefix, namespaceName);
            }

            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteString("type", isCapture ? "EPCISDocument" : "EPCISQueryDocument");
        _json.WriteString("schemaVersion", RequiredAttribute(root, "schemaVersion") ?? string.Empty);
        _json.WriteString("creationDate", RequiredAttribute(root, "creationDate") ?? string.Empty);
        foreach (var a in root.Attributes())
        {
            if (a.IsNamespaceDeclaration || a.Name.LocalName is "schemaVersion" or "creationDate" && a.Name.Namespace == XNamespace.None
                || a.Name.NamespaceName == XsiNamespace)
            {
                continue;
            }

            if (a.Name.Namespace == XNamespace.None)
            {
                Problem(a, $"Unknown attribute '{a.Name.LocalName}' on {root.Name.LocalName}.");
                continue;
            }

            _json.WriteString(KeyOf(a.Name), a.Value);
        }

        XElement? body = null;
        var extensions = new List<XElement>();
        foreach (var child in Flatten(root.Elements()))
        {
            switch (child.Name.LocalName)
            {
                case "EPCISHeader" when child.Name.Namespace == XNamespace.None && body is null:
                    _json.WritePropertyName("epcisHeader");
                    WriteHeader(child);
                    break;
                case "EPCISBody" when child.Name.Namespace == XNamespace.None && body is null:
                    body = child;
                    _json.WritePropertyName("epcisBody");
                    if (isCapture)
                    {
                        WriteCaptureBody(child);
                    }
                    else
                    {
                        WriteQueryBody(child);
                    }

                    break;
                default:
                    if (child.Name.Namespace == XNamespace.None)
                    {
                        Problem(child, $"Unexpected element '{child.Name.LocalName}' in {root.Name.LocalName}: expected EPCISHeader, EPCISBody or namespaced extensions.");
                    }
                    else
                    {
                        extensions.Add(child);
                    }

                    break;
            }
        }

        if (body is null)
        {
            Missing(root, "EPCISBody");
        }

        WriteDocumentExtensions(extensions);
        _json.WriteEndObject();
    }

    /// <summary>
    /// Document-level extensions. An <c>ignoreFields</c> extension listing empty elements (the CBV 2.0 event hash
    /// convention) becomes the JSON array of their compact names, as the JSON-LD form of that convention expects.
    /// </summary>
    private void WriteDocumentExtensions(List<XElement> extensions)
    {
        foreach (var group in extensions.GroupBy(e => e.Name))
        {
            var items = group.ToList();
            if (group.Key.LocalName == "ignoreFields" && items.Count == 1 && items[0].Elements().All(IsEmptyMarker)
                && !items[0].Attributes().Any(a => !a.IsNamespaceDeclaration))
            {
                _json.WritePropertyName(KeyOf(group.Key));
                _json.WriteStartArray();
                foreach (var field in items[0].Elements())
                {
                    _json.WriteStringValue(KeyOf(field.Name));
                }

                _json.WriteEndArray();
                continue;
            }

            WriteGenericGroup(group.Key, items, 2);
        }

        static bool IsEmptyMarker(XElement e) =>
            !e.HasElements && e.Value.Trim().Length == 0 && !e.Attributes().Any(a => !a.IsNamespaceDeclaration);
    }

    private void WriteCaptureBody(XElement body)
    {
        _json.WriteStartObject();
        XElement? eventList = null;
        var extensions = new List<XElement>();
        foreach (var child in Flatten(body.Elements()))
        {
            if (child.Name.Namespace != XNamespace.None)
            {
                extensions.Add(child);
            }
            else if (child.Name.LocalName == "EventList" && eventList is null)
            {
                eventList = child;
                WriteEventList(child);
            }
            else
            {
                Problem(child, $"Unexpected element '{child.Name.LocalName}' in EPCISBody: expected EventList.");
            }
        }

        if (eventList is null)
        {
            Missing(body, "EventList");
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    private void WriteQueryBody(XElement body)
    {
        _json.WriteStartObject();
        var results = body.Elements().FirstOrDefault(e => e.Name == "QueryResults");
        foreach (var child in body.Elements().Where(e => e != results))
        {
            Problem(child, $"Unexpected element '{child.Name.LocalName}' in EPCISBody of a query document: expected QueryResults.");
        }

        if (results is null)
        {
            Missing(body, "QueryResults");
            _json.WriteEndObject();
            return;
        }

        _json.WritePropertyName("queryResults");
        _json.WriteStartObject();
        XElement? resultsBody = null;
        var extensions = new List<XElement>();
        foreach (var child in Flatten(results.Elements()))
        {
            switch (child.Name.LocalName)
            {
                case "queryName" or "subscriptionID" when child.Name.Namespace == XNamespace.None:
                    WriteText(child.Name.LocalName, child);
                    break;
                case "resultsBody" when child.Name.Namespace == XNamespace.None && resultsBody is null:
                    resultsBody = child;
                    _json.WritePropertyName("resultsBody");
                    _json.WriteStartObject();
                    var list = child.Elements().FirstOrDefault(e => e.Name == "EventList");
                    foreach (var other in child.Elements().Where(e => e != list))
                    {
                        Problem(other, $"Unexpected element '{other.Name.LocalName}' in resultsBody: only EventList results are converted.");
                    }

                    if (list is null)
                    {
                        Missing(child, "EventList");
                    }
                    else
                    {
                        WriteEventList(list);
                    }

                    _json.WriteEndObject();
                    break;
                default:
                    if (child.Name.Namespace == XNamespace.None)
                    {
                        Problem(child, $"Unexpected element '{child.Name.LocalName}' in QueryResults.");
                    }
                    else
                    {
                        extensions.Add(child);
                    }

                    break;
            }
        }

        if (resultsBody is null)
        {
            Missing(results, "resultsBody");
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void WriteEventList(XElement list)
    {
        _json.WritePropertyName("eventList");
        _json.WriteStartArray();
        var index = 0;
        foreach (var evt in Flatten(list.Elements()))
        {
            _eventIndex = index++;
            var name = evt.Name.LocalName;
            if (evt.Name.Namespace != XNamespace.None || !TypeFields.ContainsKey(name))
            {
                Problem(evt, $"Unknown event element '{QualifiedName(evt)}': expected {string.Join(", ", EventTypeNames)}.");
                continue;
            }

            WriteEvent(evt, name);
        }

        _eventIndex = null;
        _json.WriteEndArray();
    }

    private void WriteEvent(XElement evt, string type)
    {
        _json.WriteStartObject();
        _json.WriteString("type", type);
        WriteExtensionAttributes(evt);
        var fields = TypeFields[type];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var certificationInfo = new List<string>();
        var extensions = new List<XElement>();
        foreach (var child in Flatten(evt.Elements()))
        {
            if (child.Name.Namespace != XNamespace.None)
            {
                extensions.Add(child);
                continue;
            }

            var name = child.Name.LocalName;
            if (!fields.Contains(name) && !CommonFields.Contains(name))
            {
                Problem(child, $"'{name}' is not a field of {type}.");
                continue;
            }

            if (name == "certificationInfo")
            {
                certificationInfo.Add(TextOf(child, name) ?? string.Empty);
                continue;
            }

            if (!seen.Add(name))
            {
                Problem(child, $"'{name}' is given more than once.");
                continue;
            }

            WriteStandardField(child, name);
        }

        foreach (var required in type == "TransformationEvent" ? TransformationRequired : EventRequired)
        {
            if (!seen.Contains(required))
            {
                Missing(evt, required);
            }
        }

        if (certificationInfo.Count == 1)
        {
            _json.WriteString("certificationInfo", certificationInfo[0]);
        }
        else if (certificationInfo.Count > 1)
        {
            _json.WriteStartArray("certificationInfo");
            certificationInfo.ForEach(_json.WriteStringValue);
            _json.WriteEndArray();
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    private void WriteStandardField(XElement field, string name)
    {
        switch (name)
        {
            case "epcList" or "childEPCs" or "inputEPCList" or "outputEPCList":
                WriteTextList(field, name, "epc");
                break;
            case "quantityList" or "childQuantityList" or "inputQuantityList" or "outputQuantityList":
                WriteQuantityList(field, name);
                break;
            case "readPoint" or "bizLocation":
                WriteLocation(field, name);
                break;
            case "bizTransactionList":
                WriteTypedList(field, name, "bizTransaction");
                break;
            case "sourceList":
                WriteTypedList(field, name, "source");
                break;
            case "destinationList":
                WriteTypedList(field, name, "destination");
                break;
            case "persistentDisposition":
                WritePersistentDisposition(field);
                break;
            case "sensorElementList":
                WriteSensorElementList(field);
                break;
            case "ilmd":
                WriteIlmd(field);
                break;
            case "errorDeclaration":
                WriteErrorDeclaration(field);
                break;
            case "action":
                if (TextOf(field, name) is { } action)
                {
                    if (action is not ("ADD" or "OBSERVE" or "DELETE"))
                    {
                        Problem(field, $"'{action}' is not an action: expected ADD, OBSERVE or DELETE.");
                    }

                    _json.WriteString(name, action);
                }

                break;
            case "bizStep":
                WriteCbv(name, field, "BizStep", "bizstep");
                break;
            case "disposition":
                WriteCbv(name, field, "Disp", "disp");
                break;
            default:
                WriteText(name, field);
                break;
        }
    }

    /// <summary>
    /// A CBV vocabulary value: the XML binding writes standard values as URNs (or GS1 web URIs), the JSON-LD binding
    /// as bare words (the GS1 JSON Schema refuses CBV URIs there). Both hash alike.
    /// </summary>
    private void WriteCbv(string name, XElement element, string vocabulary, string urnVocabulary)
    {
        if (TextOf(element, element.Name.LocalName) is { } text)
        {
            _json.WriteString(name, EventTerms.CbvWord(text, vocabulary, urnVocabulary));
        }
    }

    private void WriteText(string name, XElement element)
    {
        if (TextOf(element, element.Name.LocalName) is { } text)
        {
            _json.WriteString(name, text);
        }
    }

    private void WriteTextList(XElement list, string name, string itemName)
    {
        NoAttributes(list);
        _json.WriteStartArray(name);
        foreach (var item in Flatten(list.Elements()))
        {
            if (item.Name.Namespace != XNamespace.None || item.Name.LocalName != itemName)
            {
                Problem(item, $"Unexpected element '{QualifiedName(item)}' in {name}: expected {itemName}.");
            }
            else if (TextOf(item, itemName) is { } text)
            {
                _json.WriteStringValue(text);
            }
        }

        _json.WriteEndArray();
    }

    private void WriteQuantityList(XElement list, string name)
    {
        NoAttributes(list);
        _json.WriteStartArray(name);
        foreach (var item in Flatten(list.Elements()))
        {
            if (item.Name.Namespace != XNamespace.None || item.Name.LocalName != "quantityElement")
            {
                Problem(item, $"Unexpected element '{QualifiedName(item)}' in {name}: expected quantityElement.");
                continue;
            }

            _json.WriteStartObject();
            WriteExtensionAttributes(item);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var extensions = new List<XElement>();
            foreach (var part in Flatten(item.Elements()))
            {
                var partName = part.Name.LocalName;
                if (part.Name.Namespace != XNamespace.None)
                {
                    extensions.Add(part);
                }
                else if (partName is not ("epcClass" or "quantity" or "uom"))
                {
                    Problem(part, $"Unexpected element '{partName}' in quantityElement: expected epcClass, quantity, uom.");
                }
                else if (!seen.Add(partName))
                {
                    Problem(part, $"'{partName}' is given more than once.");
                }
                else if (partName == "quantity")
                {
                    if (TextOf(part, partName) is { } quantity)
                    {
                        WriteNumber(partName, quantity, part);
                    }
                }
                else
                {
                    WriteText(partName, part);
                }
            }

            if (!seen.Contains("epcClass"))
            {
                Missing(item, "epcClass");
            }

            WriteExtensionMembers(extensions);
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
    }

    private void WriteLocation(XElement location, string name)
    {
        _json.WriteStartObject(name);
        WriteExtensionAttributes(location);
        var extensions = new List<XElement>();
        var hasId = false;
        foreach (var child in Flatten(location.Elements()))
        {
            if (child.Name.Namespace != XNamespace.None)
            {
                extensions.Add(child);
            }
            else if (child.Name.LocalName == "id" && !hasId)
            {
                hasId = true;
                WriteText("id", child);
            }
            else
            {
                Problem(child, $"Unexpected element '{child.Name.LocalName}' in {name}: expected id.");
            }
        }

        if (!hasId)
        {
            Missing(location, "id");
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    /// <summary>bizTransactionList, sourceList, destinationList: entries with a <c>type</c> attribute and a URI text.</summary>
    private void WriteTypedList(XElement list, string name, string itemName)
    {
        NoAttributes(list);
        _json.WriteStartArray(name);
        foreach (var item in Flatten(list.Elements()))
        {
            if (item.Name.Namespace != XNamespace.None || item.Name.LocalName != itemName)
            {
                Problem(item, $"Unexpected element '{QualifiedName(item)}' in {name}: expected {itemName}.");
                continue;
            }

            _json.WriteStartObject();
            foreach (var a in item.Attributes().Where(a => !a.IsNamespaceDeclaration))
            {
                if (a.Name.Namespace != XNamespace.None)
                {
                    _json.WriteString(KeyOf(a.Name), a.Value);
                }
                else if (a.Name.LocalName == "type")
                {
                    _json.WriteString("type", itemName == "bizTransaction"
                        ? EventTerms.CbvWord(a.Value.Trim(), "BTT", "btt")
                        : EventTerms.CbvWord(a.Value.Trim(), "SDT", "sdt"));
                }
                else
                {
                    Problem(a, $"Unknown attribute '{a.Name.LocalName}' on {itemName}: expected type.");
                }
            }

            if (TextOf(item, itemName, attributesRead: true) is { } value)
            {
                _json.WriteString(itemName, value);
            }

            _json.WriteEndObject();
        }

        _json.WriteEndArray();
    }

    private void WritePersistentDisposition(XElement element)
    {
        NoAttributes(element);
        var set = new List<string>();
        var unset = new List<string>();
        foreach (var child in Flatten(element.Elements()))
        {
            if (child.Name.Namespace == XNamespace.None && child.Name.LocalName is "set" or "unset")
            {
                if (TextOf(child, child.Name.LocalName) is { } value)
                {
                    (child.Name.LocalName == "set" ? set : unset).Add(EventTerms.CbvWord(value, "Disp", "disp"));
                }
            }
            else
            {
                Problem(child, $"Unexpected element '{QualifiedName(child)}' in persistentDisposition: expected set or unset.");
            }
        }

        _json.WriteStartObject("persistentDisposition");
        foreach (var (name, values) in new[] { ("set", set), ("unset", unset) })
        {
            if (values.Count > 0)
            {
                _json.WriteStartArray(name);
                values.ForEach(_json.WriteStringValue);
                _json.WriteEndArray();
            }
        }

        _json.WriteEndObject();
    }

    private void WriteSensorElementList(XElement list)
    {
        NoAttributes(list);
        _json.WriteStartArray("sensorElementList");
        foreach (var element in Flatten(list.Elements()))
        {
            if (element.Name.Namespace != XNamespace.None || element.Name.LocalName != "sensorElement")
            {
                Problem(element, $"Unexpected element '{QualifiedName(element)}' in sensorElementList: expected sensorElement.");
                continue;
            }

            WriteSensorElement(element);
        }

        _json.WriteEndArray();
    }

    private void WriteSensorElement(XElement element)
    {
        _json.WriteStartObject();
        WriteExtensionAttributes(element);
        var reports = new List<XElement>();
        var extensions = new List<XElement>();
        var hasMetadata = false;
        foreach (var child in Flatten(element.Elements()))
        {
            if (child.Name.Namespace != XNamespace.None)
            {
                extensions.Add(child);
            }
            else if (child.Name.LocalName == "sensorMetadata" && !hasMetadata)
            {
                hasMetadata = true;
                _json.WritePropertyName("sensorMetadata");
                WriteSensorAttributes(child, SensorMetadataAttributes, []);
            }
            else if (child.Name.LocalName == "sensorReport")
            {
                reports.Add(child);
            }
            else
            {
                Problem(child, $"Unexpected element '{child.Name.LocalName}' in sensorElement: expected sensorMetadata, sensorReport.");
            }
        }

        if (reports.Count == 0)
        {
            Missing(element, "sensorReport");
        }

        _json.WriteStartArray("sensorReport");
        foreach (var report in reports)
        {
            WriteSensorAttributes(report, SensorReportStringAttributes, SensorReportNumberAttributes);
        }

        _json.WriteEndArray();
        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    /// <summary>sensorMetadata and sensorReport: standard attributes become members (numbers and booleans typed), extension attributes and child elements too.</summary>
    private void WriteSensorAttributes(XElement element, string[] strings, string[] numbers)
    {
        _json.WriteStartObject();
        foreach (var a in element.Attributes().Where(a => !a.IsNamespaceDeclaration))
        {
            var name = a.Name.LocalName;
            if (a.Name.Namespace != XNamespace.None)
            {
                _json.WriteString(KeyOf(a.Name), a.Value);
            }
            else if (Array.IndexOf(strings, name) >= 0)
            {
                _json.WriteString(name, a.Value.Trim());
            }
            else if (Array.IndexOf(numbers, name) >= 0)
            {
                WriteNumber(name, a.Value.Trim(), a);
            }
            else if (name == "booleanValue" && element.Name.LocalName == "sensorReport")
            {
                switch (a.Value.Trim())
                {
                    case "true" or "1":
                        _json.WriteBoolean(name, true);
                        break;
                    case "false" or "0":
                        _json.WriteBoolean(name, false);
                        break;
                    default:
                        Problem(a, $"'{a.Value}' is not a boolean: expected true or false.");
                        break;
                }
            }
            else
            {
                Problem(a, $"Unknown attribute '{name}' on {element.Name.LocalName}.");
            }
        }

        var extensions = new List<XElement>();
        foreach (var child in Flatten(element.Elements()))
        {
            if (child.Name.Namespace == XNamespace.None)
            {
                Problem(child, $"Unexpected element '{child.Name.LocalName}' in {element.Name.LocalName}: its fields are attributes.");
            }
            else
            {
                extensions.Add(child);
            }
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    private void WriteIlmd(XElement ilmd)
    {
        _json.WriteStartObject("ilmd");
        WriteExtensionAttributes(ilmd);
        var extensions = new List<XElement>();
        foreach (var child in Flatten(ilmd.Elements()))
        {
            if (child.Name.Namespace == XNamespace.None)
            {
                Problem(child, $"Unexpected element '{child.Name.LocalName}' in ilmd: master data attributes are namespaced elements.");
            }
            else
            {
                extensions.Add(child);
            }
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    private void WriteErrorDeclaration(XElement declaration)
    {
        _json.WriteStartObject("errorDeclaration");
        WriteExtensionAttributes(declaration);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var extensions = new List<XElement>();
        foreach (var child in Flatten(declaration.Elements()))
        {
            var name = child.Name.LocalName;
            if (child.Name.Namespace != XNamespace.None)
            {
                extensions.Add(child);
            }
            else if (name is not ("declarationTime" or "reason" or "correctiveEventIDs"))
            {
                Problem(child, $"Unexpected element '{name}' in errorDeclaration: expected declarationTime, reason, correctiveEventIDs.");
            }
            else if (!seen.Add(name))
            {
                Problem(child, $"'{name}' is given more than once.");
            }
            else if (name == "correctiveEventIDs")
            {
                WriteTextList(child, name, "correctiveEventID");
            }
            else if (name == "reason")
            {
                WriteCbv(name, child, "ER", "er");
            }
            else
            {
                WriteText(name, child);
            }
        }

        if (!seen.Contains("declarationTime"))
        {
            Missing(declaration, "declarationTime");
        }

        WriteExtensionMembers(extensions);
        _json.WriteEndObject();
    }

    /// <summary>Namespaced attributes of a standard element become members; others are not part of the standard.</summary>
    private void WriteExtensionAttributes(XElement element)
    {
        foreach (var a in element.Attributes().Where(a => !a.IsNamespaceDeclaration))
        {
            if (a.Name.Namespace == XNamespace.None)
            {
                Problem(a, $"Unknown attribute '{a.Name.LocalName}' on {element.Name.LocalName}.");
            }
            else
            {
                _json.WriteString(KeyOf(a.Name), a.Value);
            }
        }
    }

    private void NoAttributes(XElement element)
    {
        foreach (var a in element.Attributes().Where(a => !a.IsNamespaceDeclaration))
        {
            Problem(a, $"Unexpected attribute '{a.Name.LocalName}' on {element.Name.LocalName}.");
        }
    }

    /// <summary>User extension elements: repeated names become one array member, in order of first appearance.</summary>
    private void WriteExtensionMembers(List<XElement> extensions)
    {
        if (extensions.Count == 0)
        {
            return;
        }

        var depth = extensions[0].Ancestors().Count() + 1;
        foreach (var group in extensions.GroupBy(e => e.Name))
        {
            WriteGenericGroup(group.Key, group.ToList(), depth);
        }
    }

    /// <summary>
    /// The EPCISHeader: its master data (<c>extension/EPCISMasterData/VocabularyList</c>) in the JSON binding's shape,
    /// <c>epcisMasterData.vocabularyList[]</c> of <c>{type, vocabularyElementList: [{id, attributes: [{id, attribute}],
    /// children}]}</c>, so that capture reads it as from a JSON-LD document; anything else in the header as generic values.
    /// </summary>
    private void WriteHeader(XElement header)
    {
        var members = Flatten(header.Elements()).ToList();
        var masterData = members.FirstOrDefault(e => e.Name == "EPCISMasterData");
        if (masterData is null)
        {
            WriteGenericValue(header, 2);
            return;
        }

        _json.WriteStartObject();
        foreach (var group in members.Where(e => e != masterData).GroupBy(e => e.Name))
        {
            WriteGenericGroup(group.Key, group.ToList(), 3);
        }

        _json.WritePropertyName("epcisMasterData");
        _json.WriteStartObject();
        _json.WritePropertyName("vocabularyList");
        _json.WriteStartArray();
        foreach (var vocabulary in Flatten(masterData.Elements()).Where(e => e.Name == "VocabularyList").SelectMany(l => l.Elements("Vocabulary")))
        {
            _json.WriteStartObject();
            _json.WriteString("type", (string?)vocabulary.Attribute("type") ?? string.Empty);
            _json.WritePropertyName("vocabularyElementList");
            _json.WriteStartArray();
            foreach (var element in vocabulary.Elements("VocabularyElementList").SelectMany(l => l.Elements("VocabularyElement")))
            {
                _json.WriteStartObject();
                _json.WriteString("id", (string?)element.Attribute("id") ?? string.Empty);
                var attributes = element.Elements("attribute").ToList();
                if (attributes.Count > 0)
                {
                    _json.WritePropertyName("attributes");
                    _json.WriteStartArray();
                    foreach (var attribute in attributes)
                    {
                        _json.WriteStartObject();
                        _json.WriteString("id", (string?)attribute.Attribute("id") ?? string.Empty);
                        _json.WritePropertyName("attribute");
                        if (attribute.HasElements)
                        {
                            WriteGenericValue(attribute.Elements().First(), 8);
                        }
                        else
                        {
                            _json.WriteStringValue(attribute.Value.Trim());
                        }

                        _json.WriteEndObject();
                    }

                    _json.WriteEndArray();
                }

                var children = element.Elements("children").SelectMany(c => c.Elements("id")).ToList();
                if (children.Count > 0)
                {
                    _json.WritePropertyName("children");
                    _json.WriteStartArray();
                    foreach (var id in children)
                    {
                        _json.WriteStringValue(id.Value.Trim());
                    }

                    _json.WriteEndArray();
                }

                _json.WriteEndObject();
            }

            _json.WriteEndArray();
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void WriteGenericGroup(XName name, List<XElement> items, int depth)
    {
        _json.WritePropertyName(KeyOf(name));
        if (items.Count == 1)
        {
            WriteGenericValue(items[0], depth);
            return;
        }

        _json.WriteStartArray();
        foreach (var item in items)
        {
            WriteGenericValue(item, depth);
        }

        _json.WriteEndArray();
    }

    /// <summary>
    /// An element with text only becomes a string; otherwise an object of its attributes and child elements (names as
    /// <c>prefix:local</c>, or the local name when not namespaced) with any text as <c>#text</c>.
    /// </summary>
    private void WriteGenericValue(XElement element, int depth)
    {
        if (depth > EpcisXmlConverter.MaxElementDepth)
        {
            Problem(element, $"The elements are nested more than {EpcisXmlConverter.MaxElementDepth} deep.");
            _json.WriteNullValue();
            return;
        }

        var attributes = element.Attributes().Where(a => !a.IsNamespaceDeclaration).ToList();
        var children = Flatten(element.Elements()).ToList();
        var text = string.Concat(element.Nodes().OfType<XText>().Select(t => t.Value)).Trim();
        if (attributes.Count == 0 && children.Count == 0)
        {
            _json.WriteStringValue(text);
            return;
        }

        _json.WriteStartObject();
        if (text.Length > 0)
        {
            _json.WriteString("#text", text);
        }

        foreach (var a in attributes)
        {
            if (children.Any(c => c.Name == a.Name))
            {
                Problem(a, $"The attribute '{KeyOf(a.Name)}' has the name of a child element of {QualifiedName(element)}.");
            }

            _json.WriteString(KeyOf(a.Name), a.Value);
        }

        foreach (var group in children.GroupBy(c => c.Name))
        {
            WriteGenericGroup(group.Key, group.ToList(), depth + 1);
        }

        _json.WriteEndObject();
    }

    private void WriteNumber(string name, string text, XObject source)
    {
        if (JsonNumberPattern().IsMatch(text))
        {
            _json.WritePropertyName(name);
            _json.WriteRawValue(text);
        }
        else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            _json.WriteNumber(name, d);
        }
        else
        {
            Problem(source, $"'{text}' is not a number.");
        }
    }

    /// <summary>
    /// The trimmed text of a standard leaf element; a problem (and null) when it is empty or has structure.
    /// Attributes are refused unless the caller has read them (<paramref name="attributesRead"/>).
    /// </summary>
    private string? TextOf(XElement element, string name, bool attributesRead = false)
    {
        if (!attributesRead)
        {
            NoAttributes(element);
        }

        if (element.HasElements)
        {
            Problem(element, $"'{name}' must hold text only.");
            return null;
        }

        var text = element.Value.Trim();
        if (text.Length == 0)
        {
            Problem(element, $"'{name}' is empty.");
            return null;
        }

        return text;
    }

    private string? RequiredAttribute(XElement element, string name)
    {
        var value = element.Attribute(name)?.Value.Trim();
        if (string.IsNullOrEmpty(value))
        {
            _problems.Add(new EpcisProblem(null, PathOf(element) + "/@" + name, $"Missing attribute '{name}' on {element.Name.LocalName}{Where(element)}."));
            return null;
        }

        return value;
    }

    /// <summary>The compact JSON-LD name of an element or attribute: <c>prefix:local</c>, or the local name when not namespaced.</summary>
    private string KeyOf(XName name) =>
        name.Namespace == XNamespace.None ? name.LocalName : _prefixOf[name.NamespaceName] + ":" + name.LocalName;

    /// <summary>
    /// Gives each namespace used by an extension one JSON-LD prefix: the standard prefix of a standard namespace, else
    /// the first prefix the document declares for it that is free, else a numbered variant of it.
    /// </summary>
    private void AssignPrefixes(XElement root)
    {
        var declared = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var used = new List<string>();
        foreach (var e in root.DescendantsAndSelf())
        {
            if (e != root && e.Name.Namespace != XNamespace.None)
            {
                used.Add(e.Name.NamespaceName);
            }

            foreach (var a in e.Attributes())
            {
                if (a.IsNamespaceDeclaration)
                {
                    if (a.Name.Namespace == XNamespace.Xmlns)
                    {
                        var list = declared.TryGetValue(a.Value, out var l) ? l : declared[a.Value] = [];
                        list.Add(a.Name.LocalName);
                    }
                }
                else if (a.Name.Namespace != XNamespace.None && !(e == root && a.Name.NamespaceName == XsiNamespace))
                {
                    used.Add(a.Name.NamespaceName);
                }
            }
        }

        var taken = new HashSet<string>(StandardPrefixes.Keys, StringComparer.Ordinal);
        foreach (var ns in used.Distinct(StringComparer.Ordinal))
        {
            var standard = StandardPrefixes.FirstOrDefault(p => p.Value == ns).Key;
            if (standard is not null)
            {
                _prefixOf[ns] = standard;
                continue;
            }

            var candidates = declared.GetValueOrDefault(ns) ?? [];
            var prefix = candidates.FirstOrDefault(p => !taken.Contains(p) && !ReservedPrefixes.Contains(p));
            if (prefix is null)
            {
                var stem = candidates.FirstOrDefault() is { Length: > 0 } first ? first : "ns";
                var n = 1;
                while (taken.Contains(stem + n) || ReservedPrefixes.Contains(stem + n))
                {
                    n++;
                }

                prefix = stem + n;
            }

            taken.Add(prefix);
            _prefixOf[ns] = prefix;
        }
    }

    /// <summary>No-namespace <c>extension</c> and <c>baseExtension</c> wrappers (EPCIS 1.x) are transparent.</summary>
    private static IEnumerable<XElement> Flatten(IEnumerable<XElement> elements)
    {
        foreach (var e in elements)
        {
            if (e.Name.Namespace == XNamespace.None && e.Name.LocalName is "extension" or "baseExtension")
            {
                foreach (var inner in Flatten(e.Elements()))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return e;
            }
        }
    }

    private void Missing(XElement parent, string name) =>
        _problems.Add(new EpcisProblem(_eventIndex, PathOf(parent) + "/" + name, $"Missing required '{name}' in {parent.Name.LocalName}{Where(parent)}."));

    private void Problem(XObject at, string detail) =>
        _problems.Add(new EpcisProblem(_eventIndex, PathOf(at), detail.TrimEnd('.') + Where(at) + "."));

    private static string Where(XObject at) =>
        at is IXmlLineInfo info && info.HasLineInfo() ? $" (line {info.LineNumber}, column {info.LinePosition})" : string.Empty;

    /// <summary>The XPath-like location: <c>/EPCISDocument/EPCISBody/EventList/ObjectEvent[3]/action</c>.</summary>
    private static string PathOf(XObject at)
    {
        if (at is XAttribute attribute)
        {
            return (attribute.Parent is { } owner ? PathOf(owner) : string.Empty) + "/@" + QualifiedName(attribute.Name, attribute.Parent);
        }

        if (at is not XElement element)
        {
            return string.Empty;
        }

        var steps = new List<string>();
        for (var e = element; e is not null; e = e.Parent)
        {
            if (e.Parent is null)
            {
                steps.Add(e.Name.LocalName);
                break;
            }

            var step = QualifiedName(e);
            var isEvent = e.Name.Namespace == XNamespace.None && TypeFields.ContainsKey(e.Name.LocalName);
            var same = e.Parent.Elements(e.Name).ToList();
            if (isEvent || same.Count > 1)
            {
                step += "[" + (same.IndexOf(e) + 1).ToString(CultureInfo.InvariantCulture) + "]";
            }

            steps.Add(step);
        }

        steps.Reverse();
        return "/" + string.Join('/', steps);
    }

    private static string QualifiedName(XElement element) => QualifiedName(element.Name, element);

    private static string QualifiedName(XName name, XElement? scope)
    {
        if (name.Namespace == XNamespace.None)
        {
            return name.LocalName;
        }

        var prefix = scope?.GetPrefixOfNamespace(name.Namespace);
        return prefix is null ? "{" + name.NamespaceName + "}" + name.LocalName : prefix + ":" + name.LocalName;
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumberPattern();
}
