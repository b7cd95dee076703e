using System.Text.Json;

namespace Btmc.Epcis;

/// <summary>
/// Finds the byte range of each element of <c>epcisBody.eventList</c> in the submitted text, so that every event is
/// stored exactly as it was sent without copying it through a string.
/// </summary>
internal static class EventSlices
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    public static (int Start, int Length)[] Find(ReadOnlySpan<byte> json, int expectedCount)
    {
        var reader = new Utf8JsonReader(json, Options);
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
        if (!SeekProperty(ref reader, "epcisBody"u8) || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidOperationException("epcisBody not found in a document that was validated.");
        }

        if (!SeekProperty(ref reader, "eventList"u8) || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new InvalidOperationException("eventList not found in a document that was validated.");
        }

        var slices = new (int, int)[expectedCount];
        var n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            slices[n++] = (start, (int)reader.BytesConsumed - start);
        }

        Expect(n == expectedCount);
        return slices;
    }

    /// <summary>Moves the reader, positioned on a StartObject, to the value of the named member at that depth.</summary>
    private static bool SeekProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth)
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                {
                    return true;
                }

                reader.Skip();
            }
        }

        return false;
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The event list could not be located in a document that was validated.");
        }
    }
}
