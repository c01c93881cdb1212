"""Keras frontend: Keras 2/3 and tfjs-layers model configs -> Graph, in pure Python.

The entry is `read.read` (the frontend registry's "zooprof.frontends.keras.read:read"). Modules,
lowest first:

- constants: shape aliases, layer-class sets, activation names -> OpKind;
- dialects: the config dialects (Keras 2, tf_keras, tfjs-layers, Keras 3) normalised;
- shapes: shape arithmetic in the Keras layout;
- builder: KTensor, Nesting, GraphBuilder (emits the IR layers);
- weights: FileWeight, weight_key, the check of a file's weights against the config;
- call: LayerCall, what a layer handler receives;
- layers_conv, layers_core, layers_shape, layers_uncounted, layers_apps: the layer handlers by
  family (layers_apps: keras.applications' own layers and Keras 3's keras.ops nodes);
- registry: class name -> handler (keras.ops nodes apart), and which classes are custom code;
- walk: ConfigWalker, the walk of a (nested) model config;
- graph: `graph_from_config`, a config -> Graph;
- loading: importing Keras/TensorFlow safely (the tensorflow runtime uses it too);
- files: .h5, .keras and SavedModel files -> config and weight shapes;
- references: `keras:` references built with Keras (`build_model`, used by the tensorflow runtime);
- read: the frontend entry `read(ref, shapes, options)`.
"""
