// Writes murmur2.json from Kafka's own client (the partitioner of its Java producer):
//   java -cp "$HOME/.cache/kafka-proxy/kafka-4.1.1/libs/*" Murmur2Vectors.java > murmur2.json
// (scripts/kafka.sh fetch puts the jars there), then `pnpm exec prettier --write murmur2.json`.
import org.apache.kafka.common.utils.Utils;
import java.nio.charset.StandardCharsets;
import java.util.Random;
public class Murmur2Vectors {
  public static void main(String[] a) {
    String[] keys = {"", "a", "ab", "abc", "21", "foobar", "a-little-bit-long-string", "a-little-bit-longer-string", "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", "user-1", "clé-ü-😀"};
    StringBuilder sb = new StringBuilder("[\n");
    for (String k : keys) { byte[] b = k.getBytes(StandardCharsets.UTF_8); sb.append(String.format("  {\"hex\": \"%s\", \"murmur2\": %d, \"partitionOf12\": %d},\n", hex(b), Utils.murmur2(b), Utils.toPositive(Utils.murmur2(b)) % 12)); }
    Random r = new Random(42);
    for (int i = 0; i < 40; i++) { byte[] b = new byte[r.nextInt(40)]; r.nextBytes(b); sb.append(String.format("  {\"hex\": \"%s\", \"murmur2\": %d, \"partitionOf12\": %d}%s\n", hex(b), Utils.murmur2(b), Utils.toPositive(Utils.murmur2(b)) % 12, i == 39 ? "" : ",")); }
    System.out.print(sb.append("]\n"));
  }
  static String hex(byte[] b) { StringBuilder s = new StringBuilder(); for (byte x : b) s.append(String.format("%02x", x)); return s.toString(); }
}
