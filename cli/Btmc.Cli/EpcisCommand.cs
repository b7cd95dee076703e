using System.CommandLine;
using System.Text.Json;
using Btmc.Epcis.Cbv;

namespace Btmc.Cli;

/// <summary><c>btmc epcis hash &lt;file&gt;</c>: the CBV 2.0 event hash ID of every event of a document, in document order.</summary>
internal static class EpcisCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An EPCIS document: JSON, JSON-LD or XML." };
        var hash = new Command("hash", "Print the CBV 2.0 event hash ID of every event, in document order.") { file };
        hash.SetAction((parseResult, output, error) =>
        {
            var path = parseResult.GetRequiredValue(file);
            IReadOnlyList<string> preHashes;
            try
            {
                var text = File.ReadAllText(path);
                if (text.TrimStart().StartsWith('<'))
                {
                    preHashes = EventHashId.PreHashesFromXml(text);
                }
                else
                {
                    using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
                    preHashes = EventHashId.PreHashesFromJsonDocument(document.RootElement);
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or System.Xml.XmlException or UnauthorizedAccessException)
            {
                error.WriteLine($"btmc: cannot read {path}: {ex.Message}");
                return 1;
            }

            foreach (var preHash in preHashes)
            {
                output.WriteLine(EventHashId.FromPreHash(preHash));
            }

            return 0;
        });
        return new Command("epcis", "EPCIS documents.") { hash };
    }
}
