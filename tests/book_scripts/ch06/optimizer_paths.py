# Four optimizers on f(x, y) = x^2 / 20 + y^2 from (-7, 2), parameters as plain numbers.
import sys, os
sys.path.append(os.pardir)
from collections import OrderedDict
from common.optimizer import *


def df(x, y):
    return x / 10.0, 2.0 * y


optimizers = OrderedDict()
optimizers["SGD"] = SGD(lr=0.95)
optimizers["Momentum"] = Momentum(lr=0.1)
optimizers["AdaGrad"] = AdaGrad(lr=1.5)
optimizers["Adam"] = Adam(lr=0.3)
optimizers["RMSprop"] = RMSprop(lr=0.3, decay_rate=0.9)
optimizers["Nesterov"] = Nesterov(lr=0.1)
for key in optimizers:
    params = {'x': -7.0, 'y': 2.0}
    grads = {}
    for i in range(30):
        grads['x'], grads['y'] = df(params['x'], params['y'])
        optimizers[key].update(params, grads)
    print(key + " " + str(params['x']) + " " + str(params['y']) + " " + type(params['x']).__name__)
print("np is " + np.__name__)
