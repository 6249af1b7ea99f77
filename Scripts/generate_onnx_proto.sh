#!/bin/sh
# Regenerates Sources/RecurExport/ONNX/onnx.pb.swift from the onnx.proto that the onnx wheel ships.
# Needs: pip install onnx==1.23.2; apt-get install protobuf-compiler; and protoc-gen-swift
# built from apple/swift-protobuf at the version Package.swift resolves (1.39.0):
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#   swift build -c release --product protoc-gen-swift
# Usage: Scripts/generate_onnx_proto.sh PATH/TO/protoc-gen-swift
set -eu
plugin=${1:?give the path of protoc-gen-swift}
proto_dir=$(python3 -c "import onnx, os; print(os.path.dirname(onnx.__file__))")
out=$(cd "$(dirname "$0")/.." && pwd)/Sources/RecurExport/ONNX
work=$(mktemp -d)
cp "$proto_dir/onnx.proto" "$work/"
(cd "$work" && protoc --plugin="$plugin" --swift_out="$out" --swift_opt=Visibility=Public onnx.proto)
rm -r "$work"
echo "wrote $out/onnx.pb.swift from onnx $(python3 -c 'import onnx; print(onnx.__version__)')"
